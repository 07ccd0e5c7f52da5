import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { GraphNode } from '$lib/api/scenes';
import { groupsOf, insertNode, LOCAL, moveNode, nodesOf, readGraph } from './model';
import { insertGroup, readGroups, removeGroup, setBounds, setGroupField, setNodeGroup, TITLE_MAX } from './groups';
import { SceneHistory } from './undo';

const node = (x: number): GraphNode => ({ type: 'upscale', title: 'Upscale', position: { x, y: 0 }, params: {}, bypass: false });
const FRAME = { x: 0, y: 0, width: 400, height: 200 };

function edit(doc: Y.Doc, history: SceneHistory, change: () => void): void {
	history.before(null);
	doc.transact(change, LOCAL);
}

describe('groups in the scene document', () => {
	it('are made, moved with their nodes, bypassed and taken away, one undo step each', () => {
		const doc = new Y.Doc();
		const history = new SceneHistory(doc, () => {});
		edit(doc, history, () => ['a', 'b', 'c'].forEach((id, i) => insertNode(doc, id, node(i * 100))));
		edit(doc, history, () => {
			insertGroup(doc, 'g1', { title: 'Upscaling', bounds: FRAME });
			setNodeGroup(doc, 'a', 'g1');
			setNodeGroup(doc, 'b', 'g1');
		});
		expect(readGraph(doc).groups).toEqual({ g1: { title: 'Upscaling', bounds: FRAME } });
		expect(readGraph(doc).nodes['a']!.group).toBe('g1');
		edit(doc, history, () => {
			setBounds(doc, 'g1', { x: 50, y: 20 });
			moveNode(doc, 'a', { x: 50, y: 20 });
			moveNode(doc, 'b', { x: 150, y: 20 });
		});
		edit(doc, history, () => setGroupField(doc, 'g1', 'bypass', true));
		edit(doc, history, () => removeGroup(doc, 'g1'));
		expect(readGraph(doc).groups).toEqual({});
		expect(readGraph(doc).nodes['a']!.group).toBeUndefined();

		history.undo(); // ungroup undone: the group and its members are back
		expect(readGraph(doc).groups!['g1']).toEqual({ title: 'Upscaling', bounds: { ...FRAME, x: 50, y: 20 }, bypass: true });
		expect(readGraph(doc).nodes['b']!.group).toBe('g1');
		history.undo(); // the bypass
		expect(readGraph(doc).groups!['g1']!.bypass).toBeUndefined();
		history.undo(); // the move: frame and nodes at once
		expect(readGraph(doc).groups!['g1']!.bounds).toEqual(FRAME);
		expect(readGraph(doc).nodes['a']!.position).toEqual({ x: 0, y: 0 });
		expect(readGraph(doc).nodes['b']!.position).toEqual({ x: 100, y: 0 });
		history.destroy();
	});

	it('are read as the server reads them, whatever another client wrote', () => {
		const doc = new Y.Doc();
		doc.transact(() => {
			const odd = new Y.Map<unknown>();
			groupsOf(doc).set('g1', odd);
			odd.set('title', 'x'.repeat(500));
			odd.set('color', 'url(javascript:alert(1))');
			odd.set('bypass', 'yes');
			const bounds = new Y.Map<unknown>();
			odd.set('bounds', bounds);
			bounds.set('x', 1e300);
			bounds.set('width', -4);
			groupsOf(doc).set('not an id', new Y.Map());
			insertNode(doc, 'a', node(0));
			nodesOf(doc).get('a')!.set('group', 'gone');
		});
		expect(readGroups(doc)).toEqual({ g1: { title: 'x'.repeat(TITLE_MAX), bounds: { x: 1_000_000, y: 0, width: 40, height: 40 } } });
		expect(readGraph(doc).nodes['a']!.group).toBeUndefined(); // its group is not there
	});

	it('keep a title that is only spaces as the default one', () => {
		const doc = new Y.Doc();
		doc.transact(() => insertGroup(doc, 'g1', { title: 'Upscaling', bounds: FRAME }));
		doc.transact(() => setGroupField(doc, 'g1', 'title', '   '));
		expect(readGroups(doc)['g1']!.title).toBe('Group');
	});
});
