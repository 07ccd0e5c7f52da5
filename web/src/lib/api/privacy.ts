/** Privacy: a person's data as one zip (a task), deleting an account with a choice for each project it owns alone,
 * and how long the studio keeps things (`/api/v1/auth/me/…`, `/api/v1/admin/users/{id}/…`, `/api/v1/admin/retention`). */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type DeletionPlan = components['schemas']['DeletionPlan'];
export type ProjectChoice = components['schemas']['ProjectChoiceIn'];
export type Retention = components['schemas']['RetentionOut'];
export type RetentionPatch = components['schemas']['RetentionPatch'];
type Task = components['schemas']['TaskOut'];

export function startMyExport(): Promise<Result<Task>> {
	return settle(api.POST('/api/v1/auth/me/export'));
}

export function listMyExports(): Promise<Result<Task[]>> {
	return settle(api.GET('/api/v1/auth/me/exports', { cache: 'no-store' }));
}

export function fetchMyDeletionPlan(): Promise<Result<DeletionPlan>> {
	return settle(api.GET('/api/v1/auth/me/deletion', { cache: 'no-store' }));
}

/** Deletes the signed-in account; `password` is null for a guest. */
export function deleteMyAccount(password: string | null, projects: ProjectChoice[]): Promise<Result<void>> {
	return settle(api.POST('/api/v1/auth/me/delete', { body: { password, projects } }));
}

function person(userId: string) {
	return { params: { path: { user_id: userId } } };
}

export function startPersonExport(userId: string): Promise<Result<Task>> {
	return settle(api.POST('/api/v1/admin/users/{user_id}/export', person(userId)));
}

export function fetchPersonDeletionPlan(userId: string): Promise<Result<DeletionPlan>> {
	return settle(api.GET('/api/v1/admin/users/{user_id}/deletion', { ...person(userId), cache: 'no-store' }));
}

export function deletePersonWithChoices(userId: string, projects: ProjectChoice[]): Promise<Result<void>> {
	return settle(api.POST('/api/v1/admin/users/{user_id}/delete', { ...person(userId), body: { projects } }));
}

export function fetchRetention(): Promise<Result<Retention>> {
	return settle(api.GET('/api/v1/admin/retention', { cache: 'no-store' }));
}

export function updateRetention(body: RetentionPatch): Promise<Result<Retention>> {
	return settle(api.PATCH('/api/v1/admin/retention', { body }));
}

/** Where a finished export is downloaded from, or why it cannot be. */
export function exportState(task: Task): { href: string } | { note: string } {
	const result = task.result ?? {};
	if (result['expired']) return { note: 'Expired: the archive was deleted. Make a new one.' };
	if (task.status === 'succeeded' && typeof result['download'] === 'string') return { href: result['download'] };
	if (task.status === 'failed') return { note: task.error?.message ?? 'The export failed.' };
	if (task.status === 'cancelled') return { note: 'Cancelled.' };
	return { note: task.message || 'Waiting in the queue' };
}

export function fetchTask(taskId: string): Promise<Result<Task>> {
	return settle(api.GET('/api/v1/tasks/{task_id}', { params: { path: { task_id: taskId } }, cache: 'no-store' }));
}

/** Asks for the task once a second until it ends, handing each state to `seen`. */
export async function followTask(taskId: string, seen: (task: Task) => void): Promise<void> {
	for (;;) {
		await new Promise((done) => setTimeout(done, 1000));
		const result = await fetchTask(taskId);
		if (!result.ok) return;
		seen(result.data);
		if (!['queued', 'running', 'interrupted'].includes(result.data.status)) return;
	}
}
