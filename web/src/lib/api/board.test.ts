import { describe, expect, it } from 'vitest';
import { moved, statusLabel } from './board';

describe('board helpers', () => {
	it('moves an item within a list', () => {
		expect(moved(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
		expect(moved(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
		expect(moved(['a', 'b', 'c'], 1, 9)).toEqual(['a', 'c', 'b']);
		expect(moved(['a'], 3, 0)).toEqual(['a']);
	});
	it('names the statuses', () => {
		expect(statusLabel('in_progress')).toBe('In progress');
		expect(statusLabel('review')).toBe('In review');
	});
});
