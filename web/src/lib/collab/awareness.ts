/**
 * Presence (Yjs awareness) shared by the scene rooms and the project's presence room: the fields
 * this browser publishes, throttled, and the states of everyone else as the server stamped them.
 */
import type { Awareness } from 'y-protocols/awareness';
import type { Point } from './model';

/** Who a state belongs to: set by the server from the session, never trusted from a client. */
export interface PeerUser {
	id: string;
	name: string;
	color: string;
}

/** A person's presence: where they are and what they are doing (the server stamps `user` from the session). */
export interface PresenceFields {
	/** The studio view they look at: scene, asset, history or activity. */
	panel: string | null;
	scene: string | null;
	asset: string | null;
	/** The shot whose card they look at on the board: 'sceneId/nodeId'. */
	shot: string | null;
	/** In canvas (flow) coordinates, so it follows each viewer's own pan and zoom. */
	cursor: Point | null;
	selection: { nodes: string[]; edges: string[] } | null;
	/** The node ids being dragged. */
	dragging: string[] | null;
	/** The field being edited; `param` is a parameter key, or TITLE_FIELD for the node's title. */
	editing: { node: string; param: string } | null;
}

export const TITLE_FIELD = ':title';

export interface Peer extends Partial<PresenceFields> {
	clientId: number;
	user: PeerUser;
}

/** The server allows 30 awareness messages a second per connection; stay below it. */
const MIN_INTERVAL_MS = 40;
const MAX_INTERVAL_MS = 1000;

/**
 * Sets awareness fields at most every 40 ms (≤ 25 updates/s); the latest value always goes out. When the
 * server says presence was dropped anyway (`slowDown`, from its "slow-down" notice), the spacing doubles,
 * never to less than its limit allows.
 */
export class ThrottledPresence {
	#pending: Partial<PresenceFields> = {};
	#timer: ReturnType<typeof setTimeout> | undefined;
	#last = 0;
	#interval = MIN_INTERVAL_MS;

	constructor(private readonly awareness: Awareness) {}

	/** The least time between two sends now, in ms. */
	get interval(): number {
		return this.#interval;
	}

	/** The server dropped some of this connection's presence: it allows `limitPerSecond`; send less often. */
	slowDown(limitPerSecond: number | undefined): void {
		const floor = limitPerSecond && limitPerSecond > 0 ? Math.ceil(1000 / limitPerSecond) : MIN_INTERVAL_MS;
		this.#interval = Math.min(MAX_INTERVAL_MS, Math.max(this.#interval * 2, floor));
	}

	set(patch: Partial<PresenceFields>): void {
		Object.assign(this.#pending, patch);
		if (this.#timer !== undefined) return;
		const wait = Math.max(0, this.#last + this.#interval - Date.now());
		this.#timer = setTimeout(() => this.flush(), wait);
	}

	flush(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		const patch = this.#pending;
		this.#pending = {};
		if (Object.keys(patch).length === 0) return;
		const current = (this.awareness.getLocalState() ?? {}) as Record<string, unknown>;
		if (Object.entries(patch).every(([key, value]) => JSON.stringify(current[key]) === JSON.stringify(value))) return;
		this.#last = Date.now();
		this.awareness.setLocalState({ ...current, ...patch });
	}

	destroy(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
	}
}

function isUser(value: unknown): value is PeerUser {
	const user = value as PeerUser | null;
	return !!user && typeof user.id === 'string' && typeof user.name === 'string' && typeof user.color === 'string';
}

/** Everyone else's states that the server stamped with a user (a state without one is not shown). */
export function peersOf(awareness: Awareness): Peer[] {
	const peers: Peer[] = [];
	awareness.getStates().forEach((state, clientId) => {
		if (clientId === awareness.clientID || !isUser(state.user)) return;
		peers.push({ ...(state as Partial<PresenceFields>), clientId, user: state.user });
	});
	return peers.sort((a, b) => a.user.name.localeCompare(b.user.name) || a.clientId - b.clientId);
}

type AwarenessChange = { added: number[]; updated: number[]; removed: number[] };

/**
 * Calls `onpeers` with everyone else's states whenever one of theirs changes (a pointer, a selection, someone
 * joining or leaving). A change of this browser's own state alone calls nothing: its pointer moves many times a
 * second while someone pans, and everything drawn from the others' states (their pointers, their marks on the
 * nodes) would be worked out again each time. Answers the function that stops watching.
 */
export function watchPeers(awareness: Awareness, onpeers: (peers: Peer[]) => void): () => void {
	const changed = ({ added, updated, removed }: AwarenessChange) => {
		if ([added, updated, removed].some((ids) => ids.some((id) => id !== awareness.clientID))) onpeers(peersOf(awareness));
	};
	awareness.on('change', changed);
	return () => awareness.off('change', changed);
}
