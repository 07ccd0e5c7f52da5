/** Other people's marks on the canvas's nodes (their selection, their drag), handed to each node by context. */
import { getContext, setContext } from 'svelte';
import type { Peer, PeerUser } from '$lib/collab/awareness';
import { followMarks } from './marksByNode.svelte';

export interface NodeMarks {
	/** Who has the node selected. */
	selectedBy: PeerUser[];
	/** Who is dragging it right now. */
	draggedBy: PeerUser[];
}

export interface RemoteMarks {
	readonly byNode: ReadonlyMap<string, NodeMarks>;
}

const KEY = Symbol('remote marks');

const NO_MARKS: ReadonlyMap<string, NodeMarks> = new Map();
/** Nobody (one array for every node that no one marks). */
export const NO_ONE: readonly PeerUser[] = [];

const sameUsers = (a: readonly PeerUser[], b: readonly PeerUser[]) =>
	a.length === b.length && a.every((user, i) => user.id === b[i]!.id && user.name === b[i]!.name && user.color === b[i]!.color);

const sameMarks = (a: NodeMarks, b: NodeMarks) => sameUsers(a.selectedBy, b.selectedBy) && sameUsers(a.draggedBy, b.draggedBy);

/**
 * Each node's marks from everyone's presence. With `previous` (the marks shown until now), a node whose marks
 * did not change keeps its very entry, and when no node's did, `previous` itself comes back: presence changes
 * many times a second (pointers), and each node re-renders only when what it shows changed.
 */
export function marksOf(peers: readonly Peer[], previous: ReadonlyMap<string, NodeMarks> = NO_MARKS): ReadonlyMap<string, NodeMarks> {
	const marks = new Map<string, NodeMarks>();
	const entry = (id: string) => {
		let found = marks.get(id);
		if (!found) marks.set(id, (found = { selectedBy: [], draggedBy: [] }));
		return found;
	};
	const once = (list: PeerUser[], user: PeerUser) => list.some((u) => u.id === user.id) || list.push(user);
	for (const peer of peers) {
		for (const id of peer.selection?.nodes ?? []) once(entry(id).selectedBy, peer.user);
		for (const id of peer.dragging ?? []) once(entry(id).draggedBy, peer.user);
	}
	let unchanged = marks.size === previous.size;
	for (const [id, mark] of marks) {
		const before = previous.get(id);
		if (before && sameMarks(before, mark)) marks.set(id, before);
		else unchanged = false;
	}
	return unchanged ? previous : marks;
}

/** What each node reads: its own marks (a change of someone's selection tells the nodes it concerns alone). */
export interface NodeMarksSource {
	/** Read `.current` in another `$derived` than the one that calls this (see MarksByNode). */
	follow(nodeId: string): { readonly current: NodeMarks | undefined };
}

export function setRemoteMarks(marks: RemoteMarks): void {
	setContext<NodeMarksSource>(KEY, followMarks(() => marks.byNode));
}

export function getRemoteMarks(): NodeMarksSource | undefined {
	return getContext<NodeMarksSource | undefined>(KEY);
}
