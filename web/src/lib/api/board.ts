/** The review board: a project's shots by scene, their takes, status, picked take and order (docs/review.md). */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Board = components['schemas']['BoardOut'];
export type BoardScene = components['schemas']['BoardScene'];
export type ShotCard = components['schemas']['ShotCard'];
export type Take = components['schemas']['TakeOut'];
export type ShotStatus = ShotCard['status'];
export type ShotPatch = Partial<components['schemas']['ShotPatch']>;

/** The statuses in their order on the board, with their words. */
export const STATUSES: readonly { id: ShotStatus; label: string }[] = [
	{ id: 'todo', label: 'To do' },
	{ id: 'in_progress', label: 'In progress' },
	{ id: 'review', label: 'In review' },
	{ id: 'approved', label: 'Approved' }
];

export const statusLabel = (status: ShotStatus): string => STATUSES.find((s) => s.id === status)?.label ?? status;

export function fetchBoard(projectId: string): Promise<Result<Board>> {
	return settle(api.GET('/api/v1/projects/{project_id}/board', { params: { path: { project_id: projectId } }, cache: 'no-store' }));
}

export function fetchTakes(projectId: string, sceneId: string, nodeId: string): Promise<Result<{ items: Take[] }>> {
	return settle(
		api.GET('/api/v1/projects/{project_id}/scenes/{scene_id}/shots/{node_id}/takes', {
			params: { path: { project_id: projectId, scene_id: sceneId, node_id: nodeId } },
			cache: 'no-store'
		})
	);
}

export function changeShot(projectId: string, sceneId: string, nodeId: string, body: ShotPatch): Promise<Result<ShotCard>> {
	return settle(
		api.PATCH('/api/v1/projects/{project_id}/scenes/{scene_id}/shots/{node_id}', {
			params: { path: { project_id: projectId, scene_id: sceneId, node_id: nodeId } },
			body: { unpick: false, ...body }
		})
	);
}

export function reorderShots(projectId: string, sceneId: string, shots: string[]): Promise<Result<{ shots: string[] }>> {
	return settle(
		api.PUT('/api/v1/projects/{project_id}/scenes/{scene_id}/shot-order', {
			params: { path: { project_id: projectId, scene_id: sceneId } },
			body: { shots }
		})
	);
}

/** `list` with the item at `from` moved to `to` (both 0-based). */
export function moved<T>(list: readonly T[], from: number, to: number): T[] {
	const copy = [...list];
	const [item] = copy.splice(from, 1);
	if (item === undefined) return copy;
	copy.splice(Math.max(0, Math.min(to, copy.length)), 0, item);
	return copy;
}
