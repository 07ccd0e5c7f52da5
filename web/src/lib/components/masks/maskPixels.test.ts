import { describe, expect, it } from 'vitest';
import { alphaOf, feathered, greyPixels, tintedFromGrey } from './maskPixels';

describe('mask pixels', () => {
	it('keep a hard edge without feather and soften it with one, keeping the far parts as they were', () => {
		const width = 40;
		const values = new Uint8ClampedArray(width * 10).map((_, i) => (i % width < 20 ? 255 : 0));
		expect(feathered(values, width, 10, 0)).toEqual(values);
		const soft = feathered(values, width, 10, 8);
		const row = Array.from(soft.slice(5 * width, 6 * width));
		expect(row[0]).toBe(255);
		expect(row[width - 1]).toBe(0);
		expect(row[19]! > 128 && row[19]! < 255).toBe(true);
		expect(row[20]! < 128 && row[20]! > 0).toBe(true);
		for (let x = 1; x < width; x++) expect(row[x]!).toBeLessThanOrEqual(row[x - 1]!); // falls off smoothly
	});

	it('turn the tinted alpha into white-for-repaint and back', () => {
		const tinted = tintedFromGrey(new Uint8ClampedArray([255, 255, 255, 255, 0, 0, 0, 255, 128, 128, 128, 255]));
		expect(Array.from(alphaOf(tinted))).toEqual([255, 0, 128]);
		expect(Array.from(greyPixels(alphaOf(tinted)))).toEqual([255, 255, 255, 255, 0, 0, 0, 255, 128, 128, 128, 255]);
	});
});
