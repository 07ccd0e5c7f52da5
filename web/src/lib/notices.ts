/**
 * Which finished tasks deserve a browser notification: a run (or export, import…) of this person's that took
 * long enough for them to have looked away, ending while this tab is hidden. Pure: the store (notices.svelte.ts)
 * brings the browser's state; the tests bring theirs.
 */
import type { Task } from '$lib/api/tasks';

/** A task that ends this long after it was asked for (waiting in the queue counts) is worth a notification. */
export const LONG_TASK_MS = 15_000;

export interface Said {
	title: string;
	detail?: string;
	link?: { href: string };
}

export interface Notice {
	title: string;
	body: string;
	/** One notification per task: a second one for the same task replaces the first. */
	tag: string;
	href: string | null;
}

export interface Circumstances {
	/** This tab is in the background (`document.hidden`). */
	hidden: boolean;
	/** The person turned notifications on here, and the browser allows them. */
	allowed: boolean;
	/** When the person asked for it: the earliest request of a batch. */
	askedAt: number;
}

/** The notification for a task that just ended (as its toast says it), or null when none is due. */
export function noticeFor(task: Task, said: Said, when: Circumstances): Notice | null {
	if (!when.hidden || !when.allowed) return null;
	if (task.status !== 'succeeded' && task.status !== 'failed') return null;
	const ended = Date.parse(task.finished_at ?? task.updated_at);
	if (!(ended - when.askedAt >= LONG_TASK_MS)) return null;
	return {
		title: said.title,
		body: said.detail ?? (task.status === 'succeeded' ? 'Done.' : 'It stopped with an error.'),
		tag: `mediastudio-task-${task.id}`,
		href: said.link?.href ?? (task.project_id ? `/projects/${encodeURIComponent(task.project_id)}` : null)
	};
}
