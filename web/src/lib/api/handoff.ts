/**
 * Hand-off exports of a project: a contact sheet (PDF or PNG), a scene's image sequence (a zip of PNG files)
 * or its MP4 animatic. Each starts a task; its file is downloaded from the task's result when it is done.
 */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';
import type { Task } from './tasks';

export type SheetParams = components['schemas']['SheetParams'];
export type SequenceParams = components['schemas']['SequenceParams'];
export type AnimaticParams = components['schemas']['AnimaticParams'];
export type HandoffKind = 'sheet' | 'sequence' | 'animatic';
export type FrameSize = AnimaticParams['size'];

export const HANDOFF_CHOICES: readonly { kind: HandoffKind; label: string; note: string }[] = [
	{ kind: 'sheet', label: 'Contact sheet', note: 'Every shot as a card with its take, as PDF or PNG pages' },
	{ kind: 'sequence', label: 'Image sequence', note: 'A scene’s takes as numbered PNG files in a zip' },
	{ kind: 'animatic', label: 'Animatic', note: 'A scene’s takes as an MP4, each shot held for its duration' }
];

export const FRAME_SIZES: readonly { value: FrameSize; label: string }[] = [
	{ value: '1280x720', label: '1280 × 720 (16:9)' },
	{ value: '1920x1080', label: '1920 × 1080 (16:9)' },
	{ value: '640x360', label: '640 × 360 (16:9, small)' },
	{ value: '1080x1920', label: '1080 × 1920 (9:16)' },
	{ value: '1024x1024', label: '1024 × 1024 (square)' }
];

/** What the dialog asks; each kind sends the part it needs (`handoffBody`). */
export interface HandoffOptions {
	format: SheetParams['format'];
	/** The contact sheet's scenes; empty: every scene. */
	sceneIds: string[];
	columns: number;
	rows: number;
	/** The scene of a sequence or an animatic. */
	sceneId: string;
	frames: SequenceParams['frames'];
	fps: number;
	size: FrameSize;
	stillSeconds: number;
}

export const DEFAULT_OPTIONS: HandoffOptions = {
	format: 'pdf',
	sceneIds: [],
	columns: 4,
	rows: 3,
	sceneId: '',
	frames: 'shot',
	fps: 24,
	size: '1280x720',
	stillSeconds: 2
};

/** The request body of one kind, numbers kept within what the server accepts. */
export function handoffBody(kind: HandoffKind, o: HandoffOptions): SheetParams | SequenceParams | AnimaticParams {
	const within = (value: number, low: number, high: number, fallback: number) =>
		Number.isFinite(value) ? Math.min(high, Math.max(low, value)) : fallback;
	const still_seconds = within(o.stillSeconds, 0.1, 60, 2);
	const fps = Math.round(within(o.fps, 1, 60, 24));
	if (kind === 'sheet') {
		return {
			format: o.format,
			scene_ids: o.sceneIds.length ? o.sceneIds : null,
			columns: Math.round(within(o.columns, 1, 6, 4)),
			rows: Math.round(within(o.rows, 1, 5, 3)),
			still_seconds
		};
	}
	if (kind === 'sequence') return { scene_id: o.sceneId, frames: o.frames, fps, size: o.size, still_seconds };
	return { scene_id: o.sceneId, fps, size: o.size, still_seconds };
}

export function startHandoff(projectId: string, kind: HandoffKind, options: HandoffOptions): Promise<Result<Task>> {
	const params = { path: { project_id: projectId } };
	if (kind === 'sheet') {
		return settle(api.POST('/api/v1/projects/{project_id}/handoff/sheet', { params, body: handoffBody(kind, options) as SheetParams }));
	}
	if (kind === 'sequence') {
		return settle(
			api.POST('/api/v1/projects/{project_id}/handoff/sequence', { params, body: handoffBody(kind, options) as SequenceParams })
		);
	}
	return settle(
		api.POST('/api/v1/projects/{project_id}/handoff/animatic', { params, body: handoffBody(kind, options) as AnimaticParams })
	);
}
