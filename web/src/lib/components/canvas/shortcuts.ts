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

/** `?` (Shift+/ on most layouts) opens the sheet of shortcuts, anywhere but in a text field. */
export function asksForHelp(event: KeyboardEvent): boolean {
	return event.key === '?' && !event.ctrlKey && !event.metaKey && !event.altKey && !isTyping(event.target);
}

export interface Shortcut {
	/** The keys as this platform writes them, each a key cap. */
	keys: string[];
	what: string;
}

export interface ShortcutGroup {
	where: string;
	shortcuts: Shortcut[];
}

/** Every shortcut of the studio, for the sheet `?` opens; keep it beside the handlers above. */
export function shortcutSheet(): ShortcutGroup[] {
	const mod = isMac() ? '⌘' : 'Ctrl';
	const shift = isMac() ? '⇧' : 'Shift';
	return [
		{
			where: 'Anywhere',
			shortcuts: [
				{ keys: ['?'], what: 'Show this sheet' },
				{ keys: [mod, '\\'], what: 'Show or hide the Browser panel (studio)' },
				{ keys: [mod, shift, '\\'], what: 'Show or hide the Inspector panel (studio)' },
				{ keys: ['Esc'], what: 'Close a dialog or menu; clear the selection' }
			]
		},
		{
			where: 'Canvas',
			shortcuts: [
				{ keys: [mod, 'Z'], what: 'Undo your last change' },
				{ keys: [mod, shift, 'Z'], what: 'Redo' },
				{ keys: [mod, 'Y'], what: 'Redo' },
				{ keys: [mod, 'B'], what: 'Bypass the selected nodes (or bring them back)' },
				{ keys: ['Delete'], what: 'Delete the selected nodes and links' },
				{ keys: ['Double-click'], what: 'Add a node where you clicked' }
			]
		},
		{
			where: 'Scenes tree',
			shortcuts: [
				{ keys: ['↑', '↓'], what: 'Move between scenes' },
				{ keys: ['Alt', '↑'], what: 'Move the scene up (Alt+↓: down)' },
				{ keys: ['F2'], what: 'Rename the scene' },
				{ keys: ['Delete'], what: 'Delete the scene' }
			]
		},
		{
			where: 'Assets',
			shortcuts: [
				{ keys: [mod, 'A'], what: 'Select every asset shown' },
				{ keys: ['F2'], what: 'Rename the asset' },
				{ keys: ['Delete'], what: 'Move the asset to the trash' },
				{ keys: ['+', '−', '0'], what: 'Zoom in, out, to fit (image viewer)' },
				{ keys: ['←', '→', '↑', '↓'], what: 'Pan a zoomed picture' }
			]
		}
	];
}
