/**
 * The studio's keyboard shortcuts, all of them in one place so that no key does two things.
 *
 * The canvas's act while the canvas has focus and never while a text field does (a field keeps its own
 * undo, and Backspace deletes a character there, not a node): Ctrl+Z undo, Ctrl+Shift+Z and Ctrl+Y redo,
 * Ctrl+B bypass (as in ComfyUI), Delete and Backspace delete. The side panels' act anywhere in the studio:
 * Ctrl+\ shows or hides the Browser, Ctrl+Shift+\ the Inspector. (Cmd for Ctrl on macOS.)
 */

import type { Side } from '$lib/stores/layout.svelte';

export type CanvasCommand = 'undo' | 'redo' | 'bypass' | 'delete';

export const isTyping = (target: EventTarget | null) =>
	typeof HTMLElement !== 'undefined' &&
	target instanceof HTMLElement &&
	(target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

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

/** Which side panel a key press shows or hides, if any: the physical key right of ']' (Backslash), so the
 * shortcut sits in the same place on every keyboard layout. */
export function panelOf(event: KeyboardEvent): Side | null {
	if (!(event.ctrlKey || event.metaKey) || event.altKey || event.code !== 'Backslash') return null;
	return event.shiftKey ? 'right' : 'left';
}

/** The panel shortcuts as this platform writes them, for buttons' titles. */
export const panelKeys = (side: Side) => (side === 'left' ? keys('\\') : keys('Shift', '\\'));

/** A shortcut as this platform writes it: `keys('Shift', 'Z')` is "Ctrl+Shift+Z", or "⇧⌘Z" on a Mac. */
export function keys(...parts: string[]): string {
	if (!isMac()) return ['Ctrl', ...parts].join('+');
	return parts.map((part) => (part === 'Shift' ? '⇧' : part)).join('').replace(/^(⇧?)/, '$1⌘');
}
