import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { GraphNode } from '$lib/api/scenes';
import { maskTarget, wireMask } from './masks';
import { insertEdge, insertNode, LOCAL, readGraph } from './model';
import { SceneHistory } from './undo';

const node = (type: string, params: Record<string, string> = {}): GraphNode => ({
	type,
	title: type,
	position: { x: 400, y: 100 },
	params,
	bypass: false
});

function inpaintScene(withMask: boolean): Y.Doc {
	const doc = new Y.Doc();
	doc.transact(() => {
		insertNode(doc, 'plate', node('load_image', { asset_id: 'as_plate' }));
		insertNode(doc, 'fix', node('inpaint'));
		insertEdge(doc, { source: 'plate', source_handle: 'image', target: 'fix', target_handle: 'image' });
		if (withMask) {
			insertNode(doc, 'mask', node('load_image', { asset_id: 'as_old' }));
			insertEdge(doc, { source: 'mask', source_handle: 'mask', target: 'fix', target_handle: 'mask' });
		}
	});
	return doc;
}

describe('masks in the graph', () => {
	it('find the picture and the mask of an inpaint node, from it or from the nodes feeding it', () => {
		const graph = readGraph(inpaintScene(true));
		const expected = { inpaintId: 'fix', pictureId: 'as_plate', maskNodeId: 'mask', maskId: 'as_old' };
		expect(maskTarget(graph, 'fix')).toEqual(expected);
		expect(maskTarget(graph, 'plate')).toEqual(expected);
		expect(maskTarget(graph, 'mask')).toEqual(expected);
		expect(maskTarget(readGraph(inpaintScene(false)), 'fix')).toEqual({ ...expected, maskNodeId: null, maskId: null });
	});

	it('add a Load image node wired to the mask input, one undo step', () => {
		const doc = inpaintScene(false);
		const history = new SceneHistory(doc, () => {});
		history.before(null);
		let id: string | null = null;
		doc.transact(() => (id = wireMask(doc, readGraph(doc), 'fix', 'as_new', 'plate · mask')), LOCAL);
		const graph = readGraph(doc);
		expect(graph.nodes[id!]).toMatchObject({ type: 'load_image', title: 'plate · mask', params: { asset_id: 'as_new' } });
		expect(graph.edges[`${id}:mask->fix:mask`]).toBeTruthy();
		history.undo();
		expect(Object.keys(readGraph(doc).nodes).sort()).toEqual(['fix', 'plate']);
		expect(Object.keys(readGraph(doc).edges)).toHaveLength(1);
		history.destroy();
	});

	it('set the asset of the mask node already there', () => {
		const doc = inpaintScene(true);
		doc.transact(() => wireMask(doc, readGraph(doc), 'fix', 'as_new', 'plate · mask'), LOCAL);
		const graph = readGraph(doc);
		expect(Object.keys(graph.nodes)).toHaveLength(3);
		expect(graph.nodes['mask']!.params['asset_id']).toBe('as_new');
	});
});
