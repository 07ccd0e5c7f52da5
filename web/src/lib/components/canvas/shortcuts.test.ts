import { describe, expect, it } from 'vitest';
import { asksForHelp, commandOf, panelOf, shortcutSheet } from './shortcuts';

/** The keys any studio shortcut uses, as a keyboard reports them (`key`, `code`). */
const KEYS = [
	['b', 'KeyB'],
	['z', 'KeyZ'],
	['y', 'KeyY'],
	['a', 'KeyA'],
	['d', 'KeyD'],
	['g', 'KeyG'],
	['G', 'KeyG'],
	['F2', 'F2'],
	['c', 'KeyC'],
	['ç', 'KeyC'],
	['F10', 'F10'],
	['ContextMenu', 'ContextMenu'],
	['\\', 'Backslash'],
	['|', 'Backslash'],
	['Delete', 'Delete'],
	['Backspace', 'Backspace']
] as const;

function press(key: string, code: string, mods: number): KeyboardEvent {
	const [ctrlKey, metaKey, shiftKey, altKey] = [1, 2, 4, 8].map((bit) => (mods & bit) !== 0);
	return { key, code, ctrlKey, metaKey, shiftKey, altKey, target: null } as unknown as KeyboardEvent;
}

describe('the studio shortcuts', () => {
	it('give every key press one action at most: never a canvas command and a panel toggle at once', () => {
		for (const [key, code] of KEYS) {
			for (let mods = 0; mods < 16; mods++) {
				const event = press(key, code, mods);
				expect([commandOf(event), panelOf(event)].filter(Boolean).length, `${key} with modifiers ${mods}`).toBeLessThanOrEqual(1);
			}
		}
	});

	it('keep Ctrl+B for bypassing nodes and Ctrl+\\ / Ctrl+Shift+\\ for the panels', () => {
		expect(commandOf(press('b', 'KeyB', 1))).toBe('bypass');
		expect(panelOf(press('b', 'KeyB', 1))).toBeNull();
		expect(panelOf(press('b', 'KeyB', 1 | 8))).toBeNull();
		expect(panelOf(press('\\', 'Backslash', 1))).toBe('left');
		expect(panelOf(press('|', 'Backslash', 2 | 4))).toBe('right');
		expect(commandOf(press('\\', 'Backslash', 1))).toBeNull();
	});
});

describe('the canvas’s editing keys', () => {
	it('select all, duplicate, collapse and open the menu, leaving copy, cut and paste to the browser’s events', () => {
		expect(commandOf(press('a', 'KeyA', 1))).toBe('selectAll');
		expect(commandOf(press('d', 'KeyD', 2))).toBe('duplicate');
		expect(commandOf(press('c', 'KeyC', 8))).toBe('collapse');
		expect(commandOf(press('ç', 'KeyC', 8))).toBe('collapse'); // Alt+C on a Mac
		expect(commandOf(press('F10', 'F10', 4))).toBe('menu');
		expect(commandOf(press('ContextMenu', 'ContextMenu', 0))).toBe('menu');
		for (const key of ['c', 'x', 'v']) expect(commandOf(press(key, `Key${key.toUpperCase()}`, 1))).toBeNull();
		expect(commandOf(press('F10', 'F10', 0))).toBeNull();
		expect(commandOf(press('a', 'KeyA', 1 | 4))).toBeNull();
	});

	it('group with Ctrl+G, ungroup with Ctrl+Shift+G and rename a group with F2', () => {
		expect(commandOf(press('g', 'KeyG', 1))).toBe('group');
		expect(commandOf(press('G', 'KeyG', 1 | 4))).toBe('ungroup');
		expect(commandOf(press('g', 'KeyG', 2))).toBe('group'); // Cmd+G on a Mac
		expect(commandOf(press('F2', 'F2', 0))).toBe('rename');
		expect(commandOf(press('g', 'KeyG', 0))).toBeNull();
		expect(commandOf(press('F2', 'F2', 4))).toBeNull();
	});
});

describe('the sheet of shortcuts', () => {
	it('opens on ? and not while typing or with a modifier', () => {
		expect(asksForHelp(press('?', 'Slash', 4))).toBe(true);
		expect(asksForHelp(press('?', 'Slash', 4 | 1))).toBe(false);
		expect(asksForHelp(press('/', 'Slash', 0))).toBe(false);
		expect(asksForHelp(press('b', 'KeyB', 1))).toBe(false);
	});

	it('lists every canvas command and both panel keys, each shortcut once', () => {
		const all = shortcutSheet().flatMap((group) => group.shortcuts.map((s) => `${group.where}: ${s.keys.join('+')}`));
		expect(new Set(all).size).toBe(all.length);
		const canvas = shortcutSheet().find((group) => group.where === 'Canvas')?.shortcuts.map((s) => s.what.toLowerCase()) ?? [];
		for (const command of ['undo', 'redo', 'bypass', 'delete', 'select all', 'copy', 'cut', 'paste', 'duplicate', 'collapse', 'menu', 'group', 'ungroup', 'rename']) expect(canvas.some((what) => what.includes(command)), command).toBe(true);
		const anywhere = shortcutSheet()[0]?.shortcuts.map((s) => s.keys.at(-1)) ?? [];
		expect(anywhere.filter((key) => key === '\\')).toHaveLength(2);
	});
});
