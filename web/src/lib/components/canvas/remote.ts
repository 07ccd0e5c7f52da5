/** Other people's marks on the canvas's nodes (their selection, their drag), handed to each node by context. */
import { getContext, setContext } from 'svelte';
import type { Peer, PeerUser } from '$lib/collab/awareness';

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

export function marksOf(peers: readonly Peer[]): Map<string, NodeMarks> {
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
	return marks;
}

export function setRemoteMarks(marks: RemoteMarks): void {
	setContext(KEY, marks);
}

export function getRemoteMarks(): RemoteMarks | undefined {
	return getContext<RemoteMarks | undefined>(KEY);
}
