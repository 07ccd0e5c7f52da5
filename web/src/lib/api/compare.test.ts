import { describe, expect, it } from 'vitest';
import { compareHref, differsFromFirst, formatValue, idsFromQuery, takeLetter, type Difference } from './compare';

describe('compare', () => {
	it('builds a stable address and reads it back', () => {
		const href = compareHref('pr_1', ['as_a', 'as_b']);
		expect(href).toBe('/projects/pr_1/compare?assets=as_a,as_b');
		expect(idsFromQuery(new URL(href, 'http://x').searchParams.get('assets'))).toEqual(['as_a', 'as_b']);
	});

	it('keeps distinct ids, at most six', () => {
		expect(idsFromQuery(' a, b,a,,c,d,e,f,g')).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
		expect(idsFromQuery(null)).toEqual([]);
	});

	it('shows values and marks those unlike the first take', () => {
		expect(formatValue(null)).toBe('—');
		expect(formatValue('')).toBe('(empty)');
		expect(formatValue(0.1 + 0.2)).toBe('0.3');
		expect(formatValue([1, 2])).toBe('[1,2]');
		const difference: Difference = { path: 'seed', values: [7, 7, 8], also: [] };
		expect([0, 1, 2].map((i) => differsFromFirst(difference, i))).toEqual([false, false, true]);
		expect(takeLetter(2)).toBe('C');
	});
});
