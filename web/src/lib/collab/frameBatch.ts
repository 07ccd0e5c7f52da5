/**
 * Changes other people make, shown once per frame: each message from the room is its own task, and each would
 * otherwise make the canvas work out its nodes, hand Svelte Flow a new nodes array and re-check every node card.
 * Under load several arrive between two frames; gathered, they cost one such pass. A frame that does not come
 * (a hidden tab pauses them) is replaced by a timer, so what is read in the background stays current.
 */

type Schedule = (run: () => void) => () => void;

const FALLBACK_MS = 200;

/** The next animation frame or, if it does not come within FALLBACK_MS, a timer; answers how to cancel both. */
export const nextFrame: Schedule = (run) => {
	let done = false;
	const once = () => {
		if (done) return;
		done = true;
		cancelAnimationFrame(frame);
		clearTimeout(timer);
		run();
	};
	const frame = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(once) : 0;
	const timer = setTimeout(once, typeof requestAnimationFrame === 'function' ? FALLBACK_MS : 0);
	return () => {
		done = true;
		if (frame) cancelAnimationFrame(frame);
		clearTimeout(timer);
	};
};

/** Work that may wait for the next frame: `later` gathers it, `now` does what waits (and what is given) at once. */
export class FrameBatch<T> {
	#pending: T | null = null;
	#cancel: (() => void) | null = null;
	#merge: (pending: T | null, more: T) => T;
	#apply: (all: T) => void;
	#schedule: Schedule;

	constructor(merge: (pending: T | null, more: T) => T, apply: (all: T) => void, schedule: Schedule = nextFrame) {
		this.#merge = merge;
		this.#apply = apply;
		this.#schedule = schedule;
	}

	get waiting(): boolean {
		return this.#pending !== null;
	}

	/** Gathered with what already waits, applied at the next frame. */
	later(more: T): void {
		this.#pending = this.#merge(this.#pending, more);
		this.#cancel ??= this.#schedule(() => {
			this.#cancel = null;
			this.now();
		});
	}

	/** Applied at once, after (and together with) what waits: the order of changes is kept. */
	now(more?: T): void {
		const all = more === undefined ? this.#pending : this.#merge(this.#pending, more);
		this.drop();
		if (all !== null) this.#apply(all);
	}

	/** What waits is forgotten (the document it came from is gone, or was read whole). */
	drop(): void {
		this.#pending = null;
		this.#cancel?.();
		this.#cancel = null;
	}
}
