/** How a task's state reads in the Progress panel, the tray and the admin queue. */
import type { Task } from '$lib/api/tasks';
import { aboutDuration, ordinal } from '$lib/format';

export const STATUS_LABEL: Record<string, string> = {
	queued: 'Waiting',
	running: 'Running',
	succeeded: 'Done',
	failed: 'Failed',
	cancelled: 'Cancelled',
	interrupted: 'Interrupted'
};

export const INTERRUPTED = 'Interrupted by a restart — runs again';

/** A waiting task: "2nd in queue · done in about 2 min", "Next in queue · waiting — no estimate yet". */
export function waitingText(task: Task, { paused = false }: { paused?: boolean } = {}): string {
	if (task.status === 'interrupted') return INTERRUPTED;
	const place = task.position ? `${ordinal(task.position)} in queue` : 'In the queue';
	if (paused) return `${place} · the queue is paused`;
	if (task.eta_seconds == null) return `${place} · waiting — no estimate yet`;
	return `${place} · done in ${aboutDuration(task.eta_seconds)}`;
}

/**
 * A running task's time left: "about 40 s left", "almost done", or "starting…" while nothing is measured
 * yet (before its first steps, as a model loads: never a made-up "a few seconds").
 */
export function timeLeftText(secondsLeft: number | null): string {
	if (secondsLeft == null) return 'starting…';
	if (secondsLeft < 1) return 'almost done';
	return `${aboutDuration(secondsLeft)} left`;
}

/**
 * Why a cancelled task still runs, and for about how long: a step is never cut in half, so it stops after
 * the current one ("stopping after this step, about 12 s", from the measured step time).
 */
export function stoppingText(task: Pick<Task, 'step_seconds'>): string {
	if (task.step_seconds == null) return 'stopping after this step…';
	return `stopping after this step, about ${Math.max(1, Math.ceil(task.step_seconds))} s`;
}

/** "Step 3 of 10" (or nothing while a task has no steps yet). */
export function stepText(task: Task): string {
	return task.total > 0 ? `Step ${Math.min(task.step, task.total)} of ${task.total}` : '';
}

export function percent(task: Task): number {
	return Math.round(Math.min(1, Math.max(0, task.progress)) * 100);
}

/** A log line's time in the browser's time zone, to the second (`14:05:09`); the raw text when it is no time. */
export function logTime(iso: string): string {
	const at = new Date(iso);
	if (Number.isNaN(at.getTime())) return iso;
	const two = (n: number) => String(n).padStart(2, '0');
	return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}
