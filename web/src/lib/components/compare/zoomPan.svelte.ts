/**
 * The zoom and pan every Compare mode shares: one state for the panes side by side, the slider and the onion skin
 * (so switching modes keeps the place looked at). A wheel, two fingers, `+` `−` `0` and the arrow keys zoom and move;
 * one finger or the mouse pans while zoomed in. Offsets are in screen pixels from a pane's centre.
 */
export const MIN_ZOOM = 1;
export const MAX_ZOOM = 16;
const KEY_STEP = 40;

type Point = { x: number; y: number };
type Located = { clientX: number; clientY: number; currentTarget: EventTarget | null };

export class ZoomPan {
	zoom = $state(1);
	x = $state(0);
	y = $state(0);
	#pointers = new Map<number, Point>();
	#pinch: { distance: number; zoom: number } | null = null;

	/** The CSS transform that shows a picture at this zoom and pan (its origin: the pane's centre). */
	get transform(): string {
		return `translate(${this.x}px, ${this.y}px) scale(${this.zoom})`;
	}

	get zoomed(): boolean {
		return this.zoom > 1;
	}

	/** Zooms by `factor` keeping the point (px, py), relative to a pane's centre, still. */
	zoomAt(factor: number, px = 0, py = 0) {
		const next = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, this.zoom * factor));
		const k = next / this.zoom;
		this.x = next === 1 ? 0 : px - (px - this.x) * k;
		this.y = next === 1 ? 0 : py - (py - this.y) * k;
		this.zoom = next;
	}

	fit() {
		this.zoom = 1;
		this.x = 0;
		this.y = 0;
	}

	wheel(event: WheelEvent) {
		event.preventDefault();
		const rect = (event.currentTarget as HTMLElement).getBoundingClientRect();
		this.zoomAt(Math.exp(-event.deltaY * (event.ctrlKey ? 0.01 : 0.0015)), event.clientX - rect.left - rect.width / 2, event.clientY - rect.top - rect.height / 2);
	}

	/** A pointer went down on a pane: remembered for panning and pinching. True when two are down (a pinch). */
	down(event: PointerEvent & Located): boolean {
		(event.currentTarget as HTMLElement).setPointerCapture?.(event.pointerId);
		this.#pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
		if (this.#pointers.size === 2) {
			const [a, b] = [...this.#pointers.values()];
			this.#pinch = { distance: Math.hypot(a!.x - b!.x, a!.y - b!.y), zoom: this.zoom };
		}
		return this.#pinch !== null;
	}

	/** A pointer moved: pinches zoom; `pan` (one pointer, zoomed in) moves. True when this pointer is one we follow. */
	move(event: PointerEvent, pan: boolean): boolean {
		const last = this.#pointers.get(event.pointerId);
		if (!last) return false;
		this.#pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
		if (this.#pinch && this.#pointers.size === 2) {
			const [a, b] = [...this.#pointers.values()];
			this.zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, (this.#pinch.zoom * Math.hypot(a!.x - b!.x, a!.y - b!.y)) / Math.max(1, this.#pinch.distance)));
			if (this.zoom === 1) this.fit();
		} else if (pan && this.zoom > 1) {
			this.x += event.clientX - last.x;
			this.y += event.clientY - last.y;
		}
		return true;
	}

	up(event: PointerEvent) {
		this.#pointers.delete(event.pointerId);
		if (this.#pointers.size < 2) this.#pinch = null;
	}

	get pinching(): boolean {
		return this.#pinch !== null;
	}

	/** `+` `−` `0`, and the arrows while zoomed in; true when the key was one of them (the caller's default is kept). */
	key(event: KeyboardEvent): boolean {
		const moves: Record<string, [number, number]> = { ArrowLeft: [KEY_STEP, 0], ArrowRight: [-KEY_STEP, 0], ArrowUp: [0, KEY_STEP], ArrowDown: [0, -KEY_STEP] };
		if (event.key === '+' || event.key === '=') this.zoomAt(1.25);
		else if (event.key === '-') this.zoomAt(0.8);
		else if (event.key === '0') this.fit();
		else if (moves[event.key] && this.zoom > 1) {
			this.x += moves[event.key]![0];
			this.y += moves[event.key]![1];
		} else return false;
		event.preventDefault();
		return true;
	}
}
