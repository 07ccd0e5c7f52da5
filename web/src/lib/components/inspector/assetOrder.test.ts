import { describe, expect, it } from 'vitest';
import { addInOrder, inNameOrder, move, sortByName } from './assetOrder';

const names: Record<string, string> = { a: 'frame10.png', b: 'frame2.png', c: 'frame1.png', d: 'Frame3.png' };
const nameOf = (id: string) => names[id];

describe('the order of an image sequence', () => {
	it('sorts by name as files sort on a desktop: numbers by value, any case', () => {
		expect(sortByName(['a', 'b', 'c', 'd'], nameOf)).toEqual(['c', 'b', 'd', 'a']);
	});

	it('puts pictures picked newest first in name order', () => {
		let ids: string[] = [];
		for (const picked of ['d', 'b', 'c']) ids = addInOrder(ids, picked, nameOf);
		expect(ids).toEqual(['c', 'b', 'd']);
		expect(inNameOrder(ids, nameOf)).toBe(true);
	});

	it('keeps a reordered list as the person left it and adds at the end', () => {
		const reordered = move(['c', 'b', 'd'], 2, -2);
		expect(reordered).toEqual(['d', 'c', 'b']);
		expect(inNameOrder(reordered, nameOf)).toBe(false);
		expect(addInOrder(reordered, 'a', nameOf)).toEqual(['d', 'c', 'b', 'a']);
		expect(addInOrder(reordered, 'c', nameOf)).toBe(reordered);
	});

	it('moves within the list only', () => {
		expect(move(['c', 'b'], 0, -1)).toEqual(['c', 'b']);
		expect(move(['c', 'b'], 1, 5)).toEqual(['c', 'b']);
		expect(move(['c', 'b'], 0, 1)).toEqual(['b', 'c']);
	});
});
