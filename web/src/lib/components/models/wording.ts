/** How models read in the UI: sizes in GB as downloads are sized, the settings that suit a model. */
import type { Recommended } from '$lib/api/models';

/** Decimal units, as the hub and disk makers count: "5.2 GB", "640 MB". */
export function sizeText(bytes: number): string {
	if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
	if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
	if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} KB`;
	return `${bytes} B`;
}

/** "512×512 · 1–4 steps · guidance 0" */
export function settingsText(r: Recommended): string {
	const steps = r.steps_min === r.steps_max ? `${r.steps_min} steps` : `${r.steps_min}–${r.steps_max} steps`;
	return `${r.width}×${r.height} · ${steps} · guidance ${r.guidance}`;
}

/** "1.2 of 5.2 GB" */
export function bytesOfText(done: number, total: number): string {
	return `${sizeText(done)} of ${sizeText(total)}`;
}

const KIND: Record<string, string> = {
	'text-to-image': 'Picture',
	inpaint: 'Picture (inpaint)',
	upscale: 'Upscaler',
	'text-to-video': 'Video',
	'image-to-video': 'Video from a picture'
};

export function kindText(kind: string): string {
	return KIND[kind] ?? kind;
}

/** A base family in words ("Unknown base" when its files do not tell). */
export function baseText(base: string | null | undefined): string {
	return base ?? 'Unknown base';
}

/** Whether things of these base families go together: the same, or 1.x/2.x untold with either; unknown fits all
 * (the server's models/bases.py `fits`). */
export function familiesFit(one: string | null | undefined, other: string | null | undefined): boolean {
	if (!one || !other) return true;
	return one.startsWith(other) || other.startsWith(one);
}
