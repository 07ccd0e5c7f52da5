/** A project's history: its commits, any earlier version read-only, and restoring one (a new commit). */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Commit = components['schemas']['CommitOut'];
export type ProjectVersion = components['schemas']['ProjectVersion'];

export interface CommitPage {
	items: Commit[];
	next_cursor: string | null;
}

function commitPath(projectId: string, commit: string) {
	return { params: { path: { project_id: projectId, commit } } };
}

/** The longest search the server takes. */
export const SEARCH_MAX = 100;

/** A page of versions, newest first; with `q`, only those whose label, message or author holds every word. */
export async function listHistory(
	projectId: string,
	cursor?: string | null,
	limit = 50,
	q?: string
): Promise<Result<CommitPage>> {
	const query = { limit, cursor: cursor ?? undefined, q: q?.trim() ? q.trim().slice(0, SEARCH_MAX) : undefined };
	const result = await settle<{ items: Commit[]; next_cursor?: string | null }>(
		api.GET('/api/v1/projects/{project_id}/history', {
			params: { path: { project_id: projectId }, query },
			cache: 'no-store'
		})
	);
	return result.ok ? { ok: true, data: { items: result.data.items, next_cursor: result.data.next_cursor ?? null } } : result;
}

export function fetchVersion(projectId: string, commit: string): Promise<Result<ProjectVersion>> {
	return settle(api.GET('/api/v1/projects/{project_id}/history/{commit}', commitPath(projectId, commit)));
}

/** Makes `commit`'s content the current one again, as a new commit (history is never rewritten). */
export function restoreVersion(projectId: string, commit: string): Promise<Result<Commit>> {
	return settle(api.POST('/api/v1/projects/{project_id}/history/{commit}/restore', commitPath(projectId, commit)));
}
