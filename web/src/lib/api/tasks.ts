/** Tasks (exports, previews, scene runs…) and the queue they wait in: list, start, cancel, pause. */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Task = components['schemas']['TaskOut'];
export type TaskError = components['schemas']['TaskError'];
export type Lane = components['schemas']['QueueLane'];
export type Queue = components['schemas']['QueueOut'];
/** One waiting or running task's place, as `queue.changed` tells it. */
export type QueuePlace = components['schemas']['QueuePlace'];
export type CancelOutcome = components['schemas']['CancelOut']['outcome'];
export type LaneName = 'gpu' | 'cpu';

export type TaskStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

/** Waiting or running: a Cancel button applies. `interrupted` waits to run again after a restart. */
export const ACTIVE_STATUSES: readonly string[] = ['queued', 'running', 'interrupted'];

export function isActive(task: Pick<Task, 'status'>): boolean {
	return ACTIVE_STATUSES.includes(task.status);
}

export interface TaskQuery {
	status?: TaskStatus[];
	project?: string;
	/** Administrators: everyone's tasks. */
	all?: boolean;
	limit?: number;
}

export async function listTasks(query: TaskQuery = {}): Promise<Result<Task[]>> {
	const result = await settle<{ items: Task[] }>(
		api.GET('/api/v1/tasks', {
			params: {
				query: {
					status: query.status?.join(',') || undefined,
					project: query.project,
					all: query.all || undefined,
					limit: query.limit
				}
			},
			cache: 'no-store'
		})
	);
	return result.ok ? { ok: true, data: result.data.items } : result;
}

export function cancelTask(taskId: string): Promise<Result<{ task: Task; outcome: CancelOutcome }>> {
	return settle(api.POST('/api/v1/tasks/{task_id}/cancel', { params: { path: { task_id: taskId } } }));
}

/** Administrators: end a running task now, without waiting for its step (what that step makes is discarded). */
export function forceStopTask(taskId: string): Promise<Result<Task>> {
	return settle(api.POST('/api/v1/tasks/{task_id}/force-stop', { params: { path: { task_id: taskId } } }));
}

/** Starts a task of `kind` (`project.export`, `media.previews`…); scene runs start from their scene instead. */
export function startTask(kind: string, params: Record<string, unknown> = {}, projectId?: string | null): Promise<Result<Task>> {
	return settle(api.POST('/api/v1/tasks', { body: { kind, params, project_id: projectId ?? null } }));
}

export function fetchQueue(): Promise<Result<Queue>> {
	return settle(api.GET('/api/v1/queue', { cache: 'no-store' }));
}

/** Administrators: stop (or start again) taking new tasks off these lanes; running ones finish. */
export function setLanesPaused(paused: boolean, lanes: LaneName[]): Promise<Result<Queue>> {
	return settle(api.POST(paused ? '/api/v1/queue/pause' : '/api/v1/queue/resume', { body: { lanes } }));
}

/** Runs a scene's graph as it is now (every shot output, or `outputs`): a task on the GPU lane. */
export function runScene(projectId: string, sceneId: string, outputs?: string[] | null): Promise<Result<Task>> {
	return settle(
		api.POST('/api/v1/projects/{project_id}/scenes/{scene_id}/run', {
			params: { path: { project_id: projectId, scene_id: sceneId } },
			body: { outputs: outputs ?? null, force: false }
		})
	);
}

/** The same work once more: a scene run runs the scene's graph as it is now; other kinds reuse their parameters. */
export function runAgain(task: Task): Promise<Result<Task>> {
	const sceneId = task.params['scene_id'];
	if (task.kind === 'scene.run' && task.project_id && typeof sceneId === 'string') {
		const outputs = task.params['outputs'];
		return runScene(task.project_id, sceneId, Array.isArray(outputs) ? (outputs as string[]) : null);
	}
	return startTask(task.kind, task.params, task.project_id);
}

export type TaskLog = components['schemas']['TaskLogOut'];
export type TaskLogLine = components['schemas']['TaskLogLineOut'];

/** A task's own log: model loads, warnings, errors with what to do, its start and end (its owner and admins). */
export function getTaskLog(taskId: string): Promise<Result<TaskLog>> {
	return settle(api.GET('/api/v1/tasks/{task_id}/log', { params: { path: { task_id: taskId } }, cache: 'no-store' }));
}

/** The same log as a text file (a link's `href`). */
export function taskLogDownloadUrl(taskId: string): string {
	return `/api/v1/tasks/${encodeURIComponent(taskId)}/log/download`;
}
