/**
 * Masks in the graph: which picture an inpaint node repaints and which mask it reads (both from Load image
 * nodes), and wiring a newly painted mask asset into it. Reading works on plain graphs; `wireMask` writes
 * (call inside doc.transact, as one step).
 */
import type * as Y from 'yjs';
import type { GraphEdge, GraphNode } from '$lib/api/scenes';
import { insertEdge, insertNode, newNodeId, nodesOf, writeParam } from './model';

export const INPAINT_TYPE = 'inpaint';
export const LOAD_IMAGE_TYPE = 'load_image';

/** What a "Paint mask" over an inpaint node works with. */
export interface MaskTarget {
	/** The inpaint node the mask is for. */
	inpaintId: string;
	/** The picture reaching its `image` input (a Load image node's asset), or null when none does. */
	pictureId: string | null;
	/** The Load image node feeding its `mask` input, and that node's asset (the mask painted last). */
	maskNodeId: string | null;
	maskId: string | null;
}

type Graph = { nodes: Record<string, GraphNode>; edges: Record<string, GraphEdge> };

function assetOf(node: GraphNode | undefined): string | null {
	const id = node?.type === LOAD_IMAGE_TYPE ? node.params['asset_id'] : null;
	return typeof id === 'string' && id ? id : null;
}

function feeding(graph: Graph, target: string, handle: string): GraphEdge | undefined {
	return Object.values(graph.edges).find((edge) => edge.target === target && edge.target_handle === handle);
}

/** The inpaint node a selected node is about: itself, or the inpaint node its picture or mask feeds. */
export function maskTarget(graph: Graph, nodeId: string): MaskTarget | null {
	let inpaintId: string | null = graph.nodes[nodeId]?.type === INPAINT_TYPE ? nodeId : null;
	if (!inpaintId && graph.nodes[nodeId]?.type === LOAD_IMAGE_TYPE) {
		const out = Object.values(graph.edges).find(
			(edge) => edge.source === nodeId && graph.nodes[edge.target]?.type === INPAINT_TYPE && ['image', 'mask'].includes(edge.target_handle)
		);
		inpaintId = out?.target ?? null;
	}
	if (!inpaintId) return null;
	const image = feeding(graph, inpaintId, 'image');
	const mask = feeding(graph, inpaintId, 'mask');
	const maskNode = mask && graph.nodes[mask.source]?.type === LOAD_IMAGE_TYPE ? mask.source : null;
	return {
		inpaintId,
		pictureId: image ? assetOf(graph.nodes[image.source]) : null,
		maskNodeId: maskNode,
		maskId: maskNode ? assetOf(graph.nodes[maskNode]) : null
	};
}

/**
 * Feeds the mask asset to the inpaint node: the Load image node already on its `mask` input loads it, or a new
 * one (left of the inpaint node, below its picture) is added and connected. Answers the mask node's id.
 */
export function wireMask(doc: Y.Doc, graph: Graph, inpaintId: string, assetId: string, name: string): string | null {
	const inpaint = graph.nodes[inpaintId];
	if (!inpaint || !nodesOf(doc).has(inpaintId)) return null;
	const mask = feeding(graph, inpaintId, 'mask');
	if (mask && graph.nodes[mask.source]?.type === LOAD_IMAGE_TYPE) {
		writeParam(doc, mask.source, 'asset_id', assetId);
		return mask.source;
	}
	const id = newNodeId(doc);
	const position = { x: inpaint.position.x - 320, y: inpaint.position.y + 220 };
	insertNode(doc, id, { type: LOAD_IMAGE_TYPE, title: name, position, params: { asset_id: assetId }, bypass: false });
	insertEdge(doc, { source: id, source_handle: 'mask', target: inpaintId, target_handle: 'mask' });
	return id;
}
