/**
 * When the full cards of plain-card nodes (canvas/detail.ts) are drawn again to be measured.
 *
 * Zoomed out far, a change that may resize a node's full card (someone's edit of a prompt or a seed, a problem,
 * a picture) draws that full card for two frames, for Svelte Flow to measure it, then the plain card of its new
 * size. Each such switch builds and drops a card's elements and lays the canvas out again. With others editing
 * many times a second that was a switch every few frames, each dropping frames of a pan or zoom: the nodes now
 * wait here, and are drawn in full together, once the view has stood still for a moment (or, while it keeps
 * moving, after `maxWaitMs` at most). Until then a plain card keeps its earlier size.
 */

/** Called with true to draw a node's full card, and with false two frames later to draw its plain card again. */
export type DrawInFull = (full: boolean) => void;

export interface RemeasureTiming {
	/** How long the view stands still before the waiting nodes are drawn in full. */
	settleMs: number;
	/** The longest a node waits while the view keeps moving. */
	maxWaitMs: number;
	/** The least a node waits: edits that come close together are drawn in one batch. */
	batchMs: number;
}

const TIMING: RemeasureTiming = { settleMs: 200, maxWaitMs: 2000, batchMs: 100 };

export class RemeasureQueue {
	#pending = new Map<string, DrawInFull>();
	/** When the first node still waiting asked. */
	#since = 0;
	#stillFrom = 0;
	#timer: ReturnType<typeof setTimeout> | undefined;
	readonly #timing: RemeasureTiming;
	readonly #now: () => number;
	readonly #frame: (callback: () => void) => void;

	constructor(
		timing: Partial<RemeasureTiming> = {},
		now: () => number = () => performance.now(),
		frame: (callback: () => void) => void = (callback) => void requestAnimationFrame(callback)
	) {
		this.#timing = { ...TIMING, ...timing };
		this.#now = now;
		this.#frame = frame;
	}

	/** Node `id` is to be drawn in full and measured again; answers a function that withdraws the request. */
	request(id: string, draw: DrawInFull): () => void {
		if (this.#pending.size === 0) this.#since = this.#now();
		this.#pending.set(id, draw);
		this.#schedule();
		return () => {
			if (this.#pending.get(id) === draw) this.#pending.delete(id);
		};
	}

	/** The view was panned or zoomed. */
	moved(): void {
		this.#stillFrom = this.#now() + this.#timing.settleMs;
	}

	/** How many nodes wait. */
	get waiting(): number {
		return this.#pending.size;
	}

	#due(): number {
		const { maxWaitMs, batchMs } = this.#timing;
		return Math.min(Math.max(this.#stillFrom, this.#since + batchMs), this.#since + maxWaitMs);
	}

	#schedule(): void {
		if (this.#timer !== undefined) return;
		this.#timer = setTimeout(() => this.#fire(), Math.max(0, this.#due() - this.#now()));
	}

	#fire(): void {
		this.#timer = undefined;
		if (this.#pending.size === 0) return;
		if (this.#now() < this.#due()) return this.#schedule(); // the view moved since
		const batch = [...this.#pending.values()];
		this.#pending.clear();
		for (const draw of batch) draw(true);
		// Svelte Flow measures the full cards as they are drawn; the plain cards come back two frames later.
		this.#frame(() => this.#frame(() => batch.forEach((draw) => draw(false))));
	}
}
