/** A project's activity (who changed what, newest first) and "Save version". */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type ActivityEntry = components['schemas']['ActivityOut'];

export interface ActivityPage {
	items: ActivityEntry[];
	next_cursor: string | null;
}

export async function listActivity(projectId: string, cursor?: string | null, limit = 50): Promise<Result<ActivityPage>> {
	const result = await settle<{ items: ActivityEntry[]; next_cursor?: string | null }>(
		api.GET('/api/v1/projects/{project_id}/activity', {
			params: { path: { project_id: projectId }, query: { limit, cursor: cursor ?? undefined } },
			cache: 'no-store'
		})
	);
	return result.ok ? { ok: true, data: { items: result.data.items, next_cursor: result.data.next_cursor ?? null } } : result;
}

/** Writes and commits every open scene of the project now, as a version labelled `message`. */
export type SavedVersion = components['schemas']['SavedVersion'];

export function saveVersion(projectId: string, message?: string): Promise<Result<SavedVersion>> {
	return settle(
		api.POST('/api/v1/projects/{project_id}/save', {
			params: { path: { project_id: projectId } },
			body: { message: message?.trim() || null }
		})
	);
}
