/**
 * The studio's keyboard shortcuts, all of them in one place so that no key does two things.
 *
 * The canvas's act while the canvas has focus and never while a text field does (a field keeps its own
 * undo, and Backspace deletes a character there, not a node): Ctrl+Z undo, Ctrl+Shift+Z and Ctrl+Y redo,
 * Ctrl+B bypass (as in ComfyUI), Delete and Backspace delete, Ctrl+A select all, Ctrl+D duplicate, Alt+C
 * collapse (as in ComfyUI), Ctrl+G group the selected nodes and Ctrl+Shift+G ungroup (as in ComfyUI), F2 rename the
 * selected group, the ContextMenu key and Shift+F10 the context menu. Ctrl+C, Ctrl+X and Ctrl+V
 * are the browser's own copy, cut and paste: the canvas answers those events (canvas/clipboard.ts), so the
 * system clipboard carries nodes between browsers without asking for permission. The side panels' act anywhere in the studio:
 * Ctrl+\ shows or hides the Browser, Ctrl+Shift+\ the Inspector. (Cmd for Ctrl on macOS.)
 */

import type { Side } from '$lib/stores/layout.svelte';

export type CanvasCommand = 'undo' | 'redo' | 'bypass' | 'delete' | 'selectAll' | 'duplicate' | 'collapse' | 'menu' | 'group' | 'ungroup' | 'rename';

export const isTyping = (target: EventTarget | null) =>
	typeof HTMLElement !== 'undefined' &&
	target instanceof HTMLElement &&
	(target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

const isMac = () => typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/** What a key press asks of the canvas, if anything. */
export function commandOf(event: KeyboardEvent): CanvasCommand | null {
	if (isTyping(event.target)) return null;
	const command = event.ctrlKey || event.metaKey;
	// By the physical key: Alt+C types 'ç' on a Mac.
	if (event.altKey) return !command && !event.shiftKey && event.code === 'KeyC' ? 'collapse' : null;
	if (event.key === 'ContextMenu' || (event.shiftKey && !command && event.key === 'F10')) return 'menu';
	const key = event.key.toLowerCase();
	if (command && key === 'z') return event.shiftKey ? 'redo' : 'undo';
	if (command && !event.shiftKey && key === 'y') return 'redo';
	if (command && !event.shiftKey && key === 'b') return 'bypass';
	if (command && !event.shiftKey && key === 'a') return 'selectAll';
	if (command && !event.shiftKey && key === 'd') return 'duplicate';
	if (command && key === 'g') return event.shiftKey ? 'ungroup' : 'group';
	if (!command && !event.shiftKey && event.key === 'F2') return 'rename';
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

/** An Alt shortcut as this platform writes it: "Alt+C", or "⌥C" on a Mac. */
export const altKeys = (key: string): string => (isMac() ? `⌥${key}` : `Alt+${key}`);

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
				{ keys: [mod, 'A'], what: 'Select all nodes' },
				{ keys: [shift, 'Click'], what: 'Add a node to the selection (or take it out)' },
				{ keys: [shift, 'Drag'], what: 'Select the nodes in a box' },
				{ keys: [mod, 'C'], what: 'Copy the selected nodes (other scenes, projects and browsers can paste them)' },
				{ keys: [mod, 'X'], what: 'Cut the selected nodes' },
				{ keys: [mod, 'V'], what: 'Paste nodes where the pointer is' },
				{ keys: [mod, 'D'], what: 'Duplicate the selected nodes' },
				{ keys: [isMac() ? '⌥' : 'Alt', 'C'], what: 'Collapse the selected nodes to their title (or expand them)' },
				{ keys: [mod, 'G'], what: 'Group the selected nodes in a titled frame' },
				{ keys: [mod, shift, 'G'], what: 'Ungroup (the nodes stay)' },
				{ keys: ['F2'], what: 'Rename the selected group (or double-click its title)' },
				{ keys: ['Right-click'], what: 'Menu: copy, paste, colour, align, lay out… (long press on touch)' },
				{ keys: [shift, 'F10'], what: 'Open the menu from the keyboard (or the Menu key)' },
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
