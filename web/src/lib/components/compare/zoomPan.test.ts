import { describe, expect, it } from 'vitest';
import { MAX_ZOOM, ZoomPan } from './zoomPan.svelte';

/** A key press as the handler reads it (the tests run without a DOM). */
function key(name: string): KeyboardEvent {
	const event = { key: name, defaultPrevented: false, preventDefault: () => (event.defaultPrevented = true) };
	return event as unknown as KeyboardEvent;
}

describe('ZoomPan: the zoom and pan every Compare mode shares', () => {
	it('zooms about a point, keeping it still, and fits back', () => {
		const view = new ZoomPan();
		view.zoomAt(2, 100, 50);
		expect([view.zoom, view.x, view.y]).toEqual([2, -100, -50]); // the point (100, 50) stays where it was
		expect(view.transform).toBe('translate(-100px, -50px) scale(2)');
		view.fit();
		expect([view.zoom, view.x, view.y]).toEqual([1, 0, 0]);
	});

	it('stays between 100% and its largest zoom', () => {
		const view = new ZoomPan();
		view.zoomAt(0.5);
		expect(view.zoom).toBe(1);
		view.zoomAt(1000);
		expect(view.zoom).toBe(MAX_ZOOM);
	});

	it('takes + − 0, and the arrows only while zoomed in', () => {
		const view = new ZoomPan();
		expect(view.key(key('ArrowLeft'))).toBe(false); // at 100% the arrows are left to the page (or the divider)
		const plus = key('+');
		expect(view.key(plus)).toBe(true);
		expect(plus.defaultPrevented).toBe(true);
		expect(view.zoom).toBe(1.25);
		view.key(key('ArrowLeft'));
		view.key(key('ArrowUp'));
		expect([view.x, view.y]).toEqual([40, 40]);
		view.key(key('0'));
		expect([view.zoom, view.x, view.y]).toEqual([1, 0, 0]);
		expect(view.key(key('a'))).toBe(false);
	});
});
