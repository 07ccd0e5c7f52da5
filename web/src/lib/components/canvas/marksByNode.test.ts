import { describe, expect, it } from 'vitest';
import type { Peer } from '$lib/collab/awareness';
import { MarksByNode } from './marksByNode.svelte';
import { marksOf } from './remote';

const user = (id: string) => ({ id, name: id, color: '#f00' });
const peer = (id: string, nodes: string[]) => ({ clientId: 1, user: user(id), cursor: null, selection: { nodes, edges: [] }, dragging: null }) as unknown as Peer;

describe('MarksByNode', () => {
	it("gives each node its own marks as they change, before and after the node first asks", () => {
		const marks = new MarksByNode();
		let shown = marksOf([peer('ada', ['a'])]);
		marks.show(shown);
		expect(marks.follow('a').current?.selectedBy.map((u) => u.id)).toEqual(['ada']);
		expect(marks.follow('b').current).toBeUndefined();
		shown = marksOf([peer('ada', ['b'])], shown);
		marks.show(shown);
		expect(marks.follow('a').current).toBeUndefined();
		expect(marks.follow('b').current?.selectedBy.map((u) => u.id)).toEqual(['ada']);
		expect(marks.follow('c').current).toBeUndefined();
		const kept = marks.follow('b').current;
		marks.show(marksOf([peer('ada', ['b']), peer('bob', ['c'])], shown));
		expect(marks.follow('b').current).toBe(kept);
		expect(marks.follow('c').current?.selectedBy.map((u) => u.id)).toEqual(['bob']);
	});
});
