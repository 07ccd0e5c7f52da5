/**
 * The graph's changes on their way to Svelte Flow. Svelte Flow adopts every new nodes array it is handed in
 * full (each node checked against its own copy, every edge laid out again, each card's wrapper told), a few
 * milliseconds for a 300-node graph at each of two collaborators' ten edits a second. Zoomed out to the overview
 * (overview.ts) its cards and links are hidden, so there the graph's changes are held here, drawn by the
 * overview from `held`, and handed over once, the latest, when the cards come back. Anything the canvas changes
 * itself (a selection, a move) first takes the held change (`release`), so it changes the latest.
 */

export interface Point {
	x: number;
	y: number;
}

/** What Svelte Flow is handed: the nodes (the groups' frames among them), the edges, the graph's positions. */
export interface FlowGraph<N, E> {
	nodes: N[];
	edges: E[];
	/** Each node's position as the graph has it (what a later move of the user is measured against). */
	positions: Map<string, Point>;
}

export class Handover<N, E> {
	/** The graph's latest, not handed to Svelte Flow yet; null while Svelte Flow has the latest. */
	held = $state.raw<FlowGraph<N, E> | null>(null);
	#holding = false;
	readonly #hand: (graph: FlowGraph<N, E>) => void;

	/** `hand`: gives Svelte Flow these nodes and edges. */
	constructor(hand: (graph: FlowGraph<N, E>) => void) {
		this.#hand = hand;
	}

	/** Whether the graph's changes are held (the overview is shown); false hands the held one over, once. */
	get holding(): boolean {
		return this.#holding;
	}

	set holding(value: boolean) {
		this.#holding = value;
		if (!value) this.release();
	}

	/** What the graph's next change is worked out from: the held one, else what Svelte Flow has. */
	base(handed: FlowGraph<N, E>): FlowGraph<N, E> {
		return this.held ?? handed;
	}

	/** The graph changed to `next` (worked out from `base`): handed over now, or held while holding. */
	offer(next: FlowGraph<N, E>): void {
		if (this.#holding) {
			this.held = next;
			return;
		}
		this.held = null;
		this.#hand(next);
	}

	/** Hands the held change over now, if there is one (the canvas is about to change the nodes itself). */
	release(): void {
		const held = this.held;
		if (!held) return;
		this.held = null;
		this.#hand(held);
	}

	/** Svelte Flow changed the nodes it has (a box selection, a measured size): the held change, worked out from
	 * what it had, is no longer the latest and is dropped (the caller works it out again from the new nodes). */
	forget(): boolean {
		const had = this.held !== null;
		this.held = null;
		return had;
	}
}
