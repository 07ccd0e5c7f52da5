/**
 * Reordering by pointer (mouse, pen or touch): pressing a handle and moving over the other items of its list
 * marks where it would go; letting go there moves it. Items are found under the pointer, so a wrapping grid
 * and a column behave alike. The keyboard's way is the list's own (Alt+arrows on the handle).
 */
export interface ReorderOptions {
	/** The list's items, in order. */
	items: () => HTMLElement[];
	from: number;
	/** Where it would go now (null: nowhere, back to its place). */
	onhover: (to: number | null) => void;
	ondrop: (to: number) => void;
}

export function startReorder(event: PointerEvent, options: ReorderOptions): void {
	if (event.button !== 0) return;
	const handle = event.currentTarget as HTMLElement;
	event.preventDefault();
	handle.setPointerCapture(event.pointerId);
	let target: number | null = null;
	const start = { x: event.clientX, y: event.clientY };
	let moving = false;

	const move = (e: PointerEvent) => {
		if (!moving && Math.hypot(e.clientX - start.x, e.clientY - start.y) < 6) return; // a press, not a drag yet
		moving = true;
		const items = options.items();
		const under = document.elementsFromPoint(e.clientX, e.clientY);
		const index = items.findIndex((item) => under.some((element) => item === element || item.contains(element)));
		target = index >= 0 ? index : null;
		options.onhover(target);
	};
	const end = (e: PointerEvent) => {
		handle.removeEventListener('pointermove', move);
		handle.removeEventListener('pointerup', end);
		handle.removeEventListener('pointercancel', end);
		if (handle.hasPointerCapture(e.pointerId)) handle.releasePointerCapture(e.pointerId);
		options.onhover(null);
		if (moving && e.type === 'pointerup' && target !== null && target !== options.from) options.ondrop(target);
	};
	handle.addEventListener('pointermove', move);
	handle.addEventListener('pointerup', end);
	handle.addEventListener('pointercancel', end);
}

/** The new place a key asks for (Alt+ArrowLeft/Up: one back, Alt+ArrowRight/Down: one on), or null. */
export function keyMove(event: KeyboardEvent, from: number, count: number): number | null {
	if (!event.altKey) return null;
	const step = { ArrowLeft: -1, ArrowUp: -1, ArrowRight: 1, ArrowDown: 1 }[event.key];
	if (step === undefined) return null;
	const to = from + step;
	return to < 0 || to >= count ? null : to;
}
