/**
 * A long press of a finger (or a pen) as a right click: `onpress` gets where it was and what was under it.
 * A finger that moves (a pan, a drag) or lifts early is no long press. The browser's own `contextmenu` after
 * a long press (Android's) is swallowed, so the menu opens once, and so is the mouse press the browser makes of
 * the lifted finger (it would take the focus from the menu, which then closes: seen on a group's title bar).
 */
import type { Attachment } from 'svelte/attachments';

export const LONG_PRESS_MS = 500;
const SLOP_PX = 8;

export function longPress(onpress: (client: { x: number; y: number }, target: EventTarget | null) => void): Attachment<HTMLElement> {
	return (element) => {
		let timer: ReturnType<typeof setTimeout> | undefined;
		let start: { x: number; y: number } | null = null;
		let pressedAt = 0;
		const cancel = () => {
			clearTimeout(timer);
			start = null;
		};
		const down = (event: PointerEvent) => {
			if (event.pointerType === 'mouse' || !event.isPrimary) return cancel();
			start = { x: event.clientX, y: event.clientY };
			const target = event.target;
			clearTimeout(timer);
			timer = setTimeout(() => {
				if (!start) return;
				pressedAt = Date.now();
				onpress(start, target);
				start = null;
			}, LONG_PRESS_MS);
		};
		const move = (event: PointerEvent) => {
			if (start && Math.hypot(event.clientX - start.x, event.clientY - start.y) > SLOP_PX) cancel();
		};
		const menu = (event: MouseEvent) => {
			if (Date.now() - pressedAt < 1_000) {
				event.preventDefault();
				event.stopImmediatePropagation();
			}
		};
		element.addEventListener('pointerdown', down, true);
		element.addEventListener('pointermove', move, true);
		element.addEventListener('pointerup', cancel, true);
		element.addEventListener('pointercancel', cancel, true);
		element.addEventListener('contextmenu', menu, true);
		element.addEventListener('mousedown', menu, true);
		return () => {
			cancel();
			element.removeEventListener('pointerdown', down, true);
			element.removeEventListener('pointermove', move, true);
			element.removeEventListener('pointerup', cancel, true);
			element.removeEventListener('pointercancel', cancel, true);
			element.removeEventListener('contextmenu', menu, true);
			element.removeEventListener('mousedown', menu, true);
		};
	};
}
