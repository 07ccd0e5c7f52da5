import { describe, expect, it } from 'vitest';
import { minimapFrame } from './minimap';

describe('minimapFrame', () => {
	it('fits the nodes and the view with a 5-pixel margin, centred', () => {
		const frame = minimapFrame([{ x: 0, y: 0, width: 1000, height: 100 }], { x: 0, y: 0, width: 500, height: 300 }, 160, 110);
		// 1000 graph units across 150 pixels; the 300 high area centred in 110 pixels.
		expect(frame.scale).toBeCloseTo(1000 / 150);
		expect(frame.x).toBeCloseTo(500 - 80 * frame.scale);
		expect(frame.y).toBeCloseTo(150 - 55 * frame.scale);
	});

	it('keeps the view in it when the view is panned far from the nodes', () => {
		const view = { x: 5000, y: 5000, width: 400, height: 200 };
		const frame = minimapFrame([{ x: 0, y: 0, width: 100, height: 100 }], view, 160, 110);
		expect(frame.x + 160 * frame.scale).toBeGreaterThanOrEqual(view.x + view.width);
		expect(frame.y + 110 * frame.scale).toBeGreaterThanOrEqual(view.y + view.height);
		expect(frame.x).toBeLessThanOrEqual(0);
	});
});
