/**
 * Which run of a scene its views show, and each node's state in it, so the canvas overlay, the nodes, the
 * inspector and the Progress panel all read one task: the running run of the scene (a batch runs one at a
 * time; the newest one may still wait), else the next waiting one, else the newest; and once a run has
 * ended, no node of it still reads "waiting" or "running".
 */
import { isActive, type Task } from '$lib/api/tasks';

export type NodeRunState = 'waiting' | 'running' | 'cached' | 'done' | 'error' | 'cancelled' | 'skipped';

/** What one node of a run reports (`task.detail.nodes[id]`). */
export interface NodeRun {
	state: NodeRunState;
	step?: number;
	total?: number;
	error?: string;
	/** The blob the node's picture is stored as (changes when the picture does). */
	preview?: string;
	/** While a diffusion node runs: a small picture of what it is making so far (a data: URL). */
	live?: string;
}

/** The run the scene's views follow, from its runs newest first. */
export function currentRun(history: Task[]): Task | null {
	const running = history.filter((t) => t.status === 'running');
	if (running.length) return running[running.length - 1]!; // the oldest running: the one furthest along
	const waiting = history.filter(isActive);
	if (waiting.length) return waiting[waiting.length - 1]!; // the next to start
	return history[0] ?? null;
}

/** The runs of a batch still to come after `task` (waiting ones of the same scene). */
export function waitingAfter(history: Task[], task: Task | null): number {
	return task ? history.filter((t) => t !== task && isActive(t) && t.status !== 'running').length : 0;
}

/**
 * Each node's state in `task`. While it runs, as reported; once it ended, nodes left "waiting" or
 * "running" (a run force-stopped, or recorded before the server said otherwise) read as what happened:
 * done when it succeeded, cancelled (the one it was in) or skipped (the ones it never reached) otherwise.
 */
export function settledNodes(task: Task | null): Record<string, NodeRun> {
	const nodes = (task?.detail as { nodes?: Record<string, NodeRun> } | null | undefined)?.nodes ?? {};
	if (!task || isActive(task)) return nodes;
	const settled: Record<string, NodeRun> = {};
	for (const [id, run] of Object.entries(nodes)) {
		if (run.state !== 'waiting' && run.state !== 'running') settled[id] = run;
		else if (task.status === 'succeeded') settled[id] = { ...run, state: 'done', live: undefined };
		else settled[id] = { state: run.state === 'running' && task.status === 'cancelled' ? 'cancelled' : 'skipped', preview: run.preview };
	}
	return settled;
}

/**
 * Whether an output node (a shot) shows the picture it received in this run: not when the run did not keep it
 * there (the shot failed, as when the storage quota refused the take, or was cancelled or never reached).
 */
export function showsReceived(shot: NodeRun | undefined): boolean {
	return !shot || (shot.state !== 'error' && shot.state !== 'cancelled' && shot.state !== 'skipped');
}
