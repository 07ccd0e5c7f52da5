import { describe, expect, it } from 'vitest';
import { contrast, inkOn } from './color';

describe('text on a person\'s colour', () => {
	it('measures contrast as WCAG 2 does', () => {
		expect(contrast('#ffffff', '#000000')).toBeCloseTo(21, 5);
		expect(contrast('#ffffff', '#4c8dff')).toBeCloseTo(3.2, 1);
		expect(contrast('#ffffff', '#e5484d')).toBeCloseTo(3.91, 2);
		expect(contrast('#fff', '#000')).toBeNull();
	});

	it('picks white where it reads, dark ink elsewhere', () => {
		expect(inkOn('#3e63dd')).toBe('#ffffff');
		expect(inkOn('#e5484d')).toBe('#111318'); // white reads at 3.9:1 only
		expect(inkOn('#ffe629')).toBe('#111318');
	});

	it('reaches 4.5:1 on every colour of the colour cube', () => {
		for (let r = 0; r < 256; r += 15)
			for (let g = 0; g < 256; g += 15)
				for (let b = 0; b < 256; b += 15) {
					const background = `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
					expect(contrast(inkOn(background), background)).toBeGreaterThanOrEqual(4.5);
				}
	});
});
