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

export async function listHistory(projectId: string, cursor?: string | null, limit = 50): Promise<Result<CommitPage>> {
	const result = await settle<{ items: Commit[]; next_cursor?: string | null }>(
		api.GET('/api/v1/projects/{project_id}/history', {
			params: { path: { project_id: projectId }, query: { limit, cursor: cursor ?? undefined } },
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
