/**
 * What the Scene View knows about each node beyond the graph: its state in this user's latest run
 * (with progress, error and picture) and the problems that keep it from running. Handed to each
 * node by context, so a run's progress re-renders the nodes it concerns, not the whole graph.
 */
import { getContext, setContext } from 'svelte';

export interface NodeStatus {
	state?: 'waiting' | 'running' | 'cached' | 'done' | 'error' | 'cancelled' | 'skipped';
	step?: number;
	total?: number;
	error?: string;
	/** The address of the picture the node made (or, for a shot, the picture it received). */
	preview?: string | null;
	/** Why it cannot run. */
	problems: string[];
}

export interface NodeStatusSource {
	/** `outputNode`: a shot, which shows the picture it received. */
	of(nodeId: string, outputNode: boolean): NodeStatus | undefined;
}

const KEY = Symbol('node status');

export function setNodeStatus(source: NodeStatusSource): void {
	setContext(KEY, source);
}

export function getNodeStatus(): NodeStatusSource | undefined {
	return getContext<NodeStatusSource | undefined>(KEY);
}

/** Whether two statuses show the same: the Scene View hands out fresh ones after every check of the scene. */
export function sameStatus(a: NodeStatus | undefined, b: NodeStatus | undefined): boolean {
	if (a === b) return true;
	if (!a || !b) return false;
	return (
		a.state === b.state &&
		a.step === b.step &&
		a.total === b.total &&
		a.error === b.error &&
		(a.preview ?? null) === (b.preview ?? null) &&
		a.problems.length === b.problems.length &&
		a.problems.every((problem, i) => problem === b.problems[i])
	);
}
