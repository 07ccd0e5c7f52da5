/**
 * The canvas's keyboard shortcuts. They act while the canvas has focus and never while a text field
 * does (a field keeps its own undo, and Backspace deletes a character there, not a node).
 */

export type CanvasCommand = 'undo' | 'redo' | 'bypass' | 'delete';

export const isTyping = (target: EventTarget | null) =>
	target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

const isMac = () => typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/** What a key press asks of the canvas, if anything. */
export function commandOf(event: KeyboardEvent): CanvasCommand | null {
	if (isTyping(event.target) || event.altKey) return null;
	const command = event.ctrlKey || event.metaKey;
	const key = event.key.toLowerCase();
	if (command && key === 'z') return event.shiftKey ? 'redo' : 'undo';
	if (command && !event.shiftKey && key === 'y') return 'redo';
	if (command && !event.shiftKey && key === 'b') return 'bypass';
	if (!command && (event.key === 'Delete' || event.key === 'Backspace')) return 'delete';
	return null;
}

/** A shortcut as this platform writes it: `keys('Shift', 'Z')` is "Ctrl+Shift+Z", or "⇧⌘Z" on a Mac. */
export function keys(...parts: string[]): string {
	if (!isMac()) return ['Ctrl', ...parts].join('+');
	return parts.map((part) => (part === 'Shift' ? '⇧' : part)).join('').replace(/^(⇧?)/, '$1⌘');
}
