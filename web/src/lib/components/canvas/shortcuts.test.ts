import { describe, expect, it } from 'vitest';
import { asksForHelp, commandOf, panelOf, shortcutSheet } from './shortcuts';

/** The keys any studio shortcut uses, as a keyboard reports them (`key`, `code`). */
const KEYS = [
	['b', 'KeyB'],
	['z', 'KeyZ'],
	['y', 'KeyY'],
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
		for (const command of ['undo', 'redo', 'bypass', 'delete']) expect(canvas.some((what) => what.includes(command)), command).toBe(true);
		const anywhere = shortcutSheet()[0]?.shortcuts.map((s) => s.keys.at(-1)) ?? [];
		expect(anywhere.filter((key) => key === '\\')).toHaveLength(2);
	});
});
