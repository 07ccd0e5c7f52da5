import { describe, expect, it } from 'vitest';
import { NODE_COLORS } from '$lib/collab/model';
import { contrast, NODE_COLOR_SHADES, TITLE_TEXT } from './colors';

describe('node colours', () => {
	it('cover the palette the scene stores, each readable under the title’s text (WCAG AA, 4.5:1)', () => {
		expect(Object.keys(NODE_COLOR_SHADES).sort()).toEqual([...NODE_COLORS].sort());
		for (const [name, { shade }] of Object.entries(NODE_COLOR_SHADES)) {
			expect(contrast(TITLE_TEXT, shade), name).toBeGreaterThanOrEqual(4.5);
		}
		expect(contrast('#ffffff', '#000000')).toBeCloseTo(21);
	});
});
