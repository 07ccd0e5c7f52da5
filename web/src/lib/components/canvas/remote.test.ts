import { describe, expect, it } from 'vitest';
import type { Peer } from '$lib/collab/awareness';
import { marksOf } from './remote';

const ana = { id: 'u1', name: 'Ana', color: '#f00' };
const bob = { id: 'u2', name: 'Bob', color: '#00f' };
const peer = (clientId: number, user: typeof ana, fields: Partial<Peer> = {}): Peer => ({ clientId, user, ...fields });

describe('marksOf', () => {
	it("gathers who selects and who drags each node, each person once", () => {
		const marks = marksOf([
			peer(1, ana, { selection: { nodes: ['a', 'b'], edges: [] }, dragging: ['b'] }),
			peer(2, ana, { selection: { nodes: ['a'], edges: [] } }),
			peer(3, bob, { selection: { nodes: ['b'], edges: [] } })
		]);
		expect(marks.get('a')).toEqual({ selectedBy: [ana], draggedBy: [] });
		expect(marks.get('b')).toEqual({ selectedBy: [ana, bob], draggedBy: [ana] });
		expect(marks.has('c')).toBe(false);
	});

	it("someone's pointer moving changes no node's marks: the very same map comes back", () => {
		// Each node reads its marks from this map: another map (or entry) re-renders every node of the canvas.
		const before = marksOf([peer(1, ana, { cursor: { x: 1, y: 1 }, selection: { nodes: ['a'], edges: [] } })]);
		const after = marksOf([peer(1, ana, { cursor: { x: 80, y: 40 }, selection: { nodes: ['a'], edges: [] } })], before);
		expect(after).toBe(before);
	});

	it('a selection that changes gives a new map that keeps the entries of the nodes it did not touch', () => {
		const before = marksOf([
			peer(1, ana, { selection: { nodes: ['a'], edges: [] } }),
			peer(2, bob, { selection: { nodes: ['b'], edges: [] } })
		]);
		const after = marksOf(
			[peer(1, ana, { selection: { nodes: ['a'], edges: [] } }), peer(2, bob, { selection: { nodes: ['c'], edges: [] } })],
			before
		);
		expect(after).not.toBe(before);
		expect(after.get('a')).toBe(before.get('a'));
		expect(after.has('b')).toBe(false);
		expect(after.get('c')).toEqual({ selectedBy: [bob], draggedBy: [] });
	});
});
