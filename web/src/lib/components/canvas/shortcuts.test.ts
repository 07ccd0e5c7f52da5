import { describe, expect, it } from 'vitest';
import { commandOf, panelOf } from './shortcuts';

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
