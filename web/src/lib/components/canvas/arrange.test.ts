import { describe, expect, it } from 'vitest';
import type { GraphEdge } from '$lib/api/scenes';
import { align, distribute, layout, layoutWithFrames, LAYOUT_GAP, type Box } from './arrange';

const box = (id: string, x: number, y: number, width = 100, height = 50): Box => ({ id, x, y, width, height });
const link = (source: string, target: string): GraphEdge => ({ source, source_handle: 'out', target, target_handle: 'in' });

describe('align', () => {
	const boxes = [box('a', 0, 0, 100), box('b', 50, 100, 200, 80), box('c', 300, 40, 60, 20)];

	it('lines up left, centre and right edges on the selection’s bounds', () => {
		expect(align(boxes, 'left')).toEqual({ b: { x: 0, y: 100 }, c: { x: 0, y: 40 } });
		expect(align(boxes, 'right')).toEqual({ a: { x: 260, y: 0 }, b: { x: 160, y: 100 } });
		expect(align(boxes, 'center')).toEqual({ a: { x: 130, y: 0 }, b: { x: 80, y: 100 }, c: { x: 150, y: 40 } });
	});

	it('lines up top, middle and bottom edges, and answers only the nodes that move', () => {
		expect(align(boxes, 'top')).toEqual({ b: { x: 50, y: 0 }, c: { x: 300, y: 0 } });
		expect(align(boxes, 'bottom')).toEqual({ a: { x: 0, y: 130 }, c: { x: 300, y: 160 } });
		expect(align(boxes, 'middle')).toEqual({ a: { x: 0, y: 65 }, b: { x: 50, y: 50 }, c: { x: 300, y: 80 } });
		expect(align([box('a', 5, 5)], 'left')).toEqual({});
	});
});

describe('distribute', () => {
	it('makes the gaps between boxes equal, the outer two staying put', () => {
		const boxes = [box('c', 500, 0), box('a', 0, 10), box('b', 120, 20)];
		expect(distribute(boxes, 'horizontal')).toEqual({ b: { x: 250, y: 20 } });
		expect(distribute([box('a', 0, 0), box('b', 0, 300, 100, 100), box('c', 0, 100)], 'vertical')).toEqual({ c: { x: 0, y: 150 } });
	});

	it('lays boxes that do not fit edge to edge, never overlapping, and needs three', () => {
		expect(distribute([box('a', 0, 0), box('b', 10, 0), box('c', 20, 0)], 'horizontal')).toEqual({ b: { x: 100, y: 0 }, c: { x: 200, y: 0 } });
		expect(distribute([box('a', 0, 0), box('b', 500, 0)], 'horizontal')).toEqual({});
	});
});

describe('layout', () => {
	it('puts each node one column right of what feeds it, columns stacked in their order', () => {
		const boxes = [box('gen', 0, 0, 200, 120), box('prompt', 400, 300), box('seed', 400, 0), box('save', 0, 500)];
		const links = [link('prompt', 'gen'), link('seed', 'gen'), link('gen', 'save')];
		const x1 = 100 + LAYOUT_GAP.x;
		expect(layout(boxes, links)).toEqual({
			seed: { x: 0, y: 0 },
			prompt: { x: 0, y: 50 + LAYOUT_GAP.y },
			gen: { x: x1, y: 0 },
			save: { x: x1 + 200 + LAYOUT_GAP.x, y: 0 }
		});
	});

	it('survives a cycle and ignores links from outside the selection', () => {
		const boxes = [box('a', 0, 0), box('b', 0, 100)];
		const placedOut = layout(boxes, [link('a', 'b'), link('b', 'a'), link('elsewhere', 'a')]);
		const xs = [placedOut['a']?.x ?? 0, placedOut['b']?.x ?? 0].sort((p, q) => p - q);
		expect(xs).toEqual([0, 100 + LAYOUT_GAP.x]);
	});
});

describe('layout with frames', () => {
	const pad = { side: 20, top: 50, bottom: 20 };
	const inside = (b: { x: number; y: number; width: number; height: number }, f: typeof b) =>
		b.x >= f.x && b.y >= f.y && b.x + b.width <= f.x + f.width && b.y + b.height <= f.y + f.height;

	it("lays a group's nodes out inside its frame, fits the frame, and keeps loose nodes out of it", () => {
		// a and b in group g (a frame too small for them laid side by side); c feeds a, d is fed by b; neither in g.
		const a = box('a', 520, 270);
		const b = box('b', 530, 420);
		const frame = { x: 500, y: 200, width: 200, height: 300 };
		const boxes = [box('c', 0, 0), a, b, box('d', 100, 600)];
		const links = [link('c', 'a'), link('a', 'b'), link('b', 'd')];
		const groupOf = (id: string) => (id === 'a' || id === 'b' ? 'g' : null);
		const out = layoutWithFrames(boxes, links, groupOf, { g: { bounds: frame, members: [a, b] } }, pad);
		const to = (x: Box) => ({ ...x, ...(out.positions[x.id] ?? {}) });
		const fitted = out.frames['g']!;
		expect(fitted).toBeDefined();
		// The frame holds its nodes with its room around them: a then b, one column apart.
		for (const node of [a, b]) expect(inside(to(node), fitted)).toBe(true);
		expect(to(b).x).toBe(to(a).x + 100 + LAYOUT_GAP.x);
		expect(to(a).x).toBe(fitted.x + pad.side);
		expect(to(a).y).toBe(fitted.y + pad.top);
		expect(fitted.width).toBe(2 * 100 + LAYOUT_GAP.x + 2 * pad.side);
		expect(fitted.height).toBe(50 + pad.top + pad.bottom);
		// The loose nodes sit in the columns before and after the frame, none inside it.
		for (const loose of ['c', 'd']) {
			const at = to(boxes.find((x) => x.id === loose)!);
			expect(at.x + at.width <= fitted.x || at.x >= fitted.x + fitted.width).toBe(true);
		}
		expect(to(boxes[0]!).x).toBeLessThan(fitted.x);
		expect(to(boxes[3]!).x).toBeGreaterThan(fitted.x + fitted.width - 1);
	});

	it('moves a frame with its unselected nodes, and is the plain layout without groups', () => {
		const a = box('a', 520, 270);
		const other = box('o', 600, 300);
		const boxes = [box('c', 0, 0), a];
		const groupOf = (id: string) => (id === 'c' ? null : 'g');
		const out = layoutWithFrames(boxes, [link('c', 'a')], groupOf, { g: { bounds: { x: 500, y: 220, width: 220, height: 150 }, members: [a, other] } }, pad);
		const moved = out.frames['g']!;
		expect(out.positions['o']!.x - other.x).toBe(moved.x - 500);
		expect(out.positions['a']!.x - a.x).toBe(moved.x - 500);
		expect(layoutWithFrames([box('a', 0, 0), box('b', 0, 100)], [link('a', 'b')], () => null, {}, pad)).toEqual({
			positions: layout([box('a', 0, 0), box('b', 0, 100)], [link('a', 'b')]),
			frames: {}
		});
	});
});
