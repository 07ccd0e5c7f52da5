import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { GraphNode } from '$lib/api/scenes';
import { insertEdge, insertNode, LOCAL, moveNode, newNodeId, readGraph, setLook } from './model';
import { SceneHistory } from './undo';

const node = (type: string, x: number): GraphNode => ({ type, title: type, position: { x, y: 0 }, params: {}, bypass: false });

/** A local edit as SceneDoc makes one: a one-off gesture, one transaction. */
function edit(doc: Y.Doc, history: SceneHistory, change: () => void): void {
	history.before(null);
	doc.transact(change, LOCAL);
}

describe('one undo step per canvas action', () => {
	it('reverts a whole multi-node paste, then an align of it, one step each, even in quick succession', () => {
		const doc = new Y.Doc();
		const history = new SceneHistory(doc, () => {});
		edit(doc, history, () => insertNode(doc, 'first', node('prompt', 0)));
		const ids: string[] = [];
		edit(doc, history, () => {
			for (const x of [100, 200, 300]) {
				const id = newNodeId(doc);
				ids.push(id);
				insertNode(doc, id, node('upscale', x));
			}
			insertEdge(doc, { source: ids[0]!, source_handle: 'image', target: ids[1]!, target_handle: 'image' });
		});
		edit(doc, history, () => ids.forEach((id) => moveNode(doc, id, { x: 100, y: 0 })));
		edit(doc, history, () => ids.forEach((id) => setLook(doc, id, 'color', 'blue')));

		history.undo(); // the colour
		expect(ids.map((id) => readGraph(doc).nodes[id]!.color)).toEqual([undefined, undefined, undefined]);
		history.undo(); // the align
		expect(ids.map((id) => readGraph(doc).nodes[id]!.position.x)).toEqual([100, 200, 300]);
		history.undo(); // the paste: every node and link of it
		expect(Object.keys(readGraph(doc).nodes)).toEqual(['first']);
		expect(readGraph(doc).edges).toEqual({});
		history.redo();
		expect(Object.keys(readGraph(doc).nodes)).toHaveLength(4);
		expect(Object.keys(readGraph(doc).edges)).toHaveLength(1);
		history.destroy();
	});
});
