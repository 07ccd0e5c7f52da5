/** A scene graph (as stored) turned into Svelte Flow's nodes and edges, and positions back. */
import type { Edge, Node } from '@xyflow/svelte';
import type { Graph } from '$lib/api/scenes';

export interface GraphNodeData extends Record<string, unknown> {
	title: string;
	type: string;
	/** Input and output ports, as far as the edges tell (node types' schemas come with the engine). */
	inputs: string[];
	outputs: string[];
	bypass: boolean;
}

export type FlowNode = Node<GraphNodeData, 'graph'>;

function humanize(type: string): string {
	const words = type.replace(/[_-]+/g, ' ').trim();
	return words.charAt(0).toUpperCase() + words.slice(1);
}

export function toFlow(graph: Graph, readonly: boolean): { nodes: FlowNode[]; edges: Edge[] } {
	const ports = new Map<string, { inputs: Set<string>; outputs: Set<string> }>();
	const portsOf = (id: string) => {
		let entry = ports.get(id);
		if (!entry) ports.set(id, (entry = { inputs: new Set(), outputs: new Set() }));
		return entry;
	};
	const edges: Edge[] = [];
	for (const [key, edge] of Object.entries(graph.edges)) {
		// A dangling edge (its node is gone) is hidden; the server repairs it.
		if (!graph.nodes[edge.source] || !graph.nodes[edge.target]) continue;
		portsOf(edge.source).outputs.add(edge.source_handle);
		portsOf(edge.target).inputs.add(edge.target_handle);
		edges.push({
			id: key,
			source: edge.source,
			target: edge.target,
			sourceHandle: edge.source_handle,
			targetHandle: edge.target_handle
		});
	}
	const nodes = Object.entries(graph.nodes).map(([id, node]): FlowNode => {
		const entry = ports.get(id);
		return {
			id,
			type: 'graph',
			position: { x: node.position?.x ?? 0, y: node.position?.y ?? 0 },
			draggable: !readonly,
			data: {
				title: node.title || humanize(node.type),
				type: node.type,
				inputs: [...(entry?.inputs ?? [])].sort(),
				outputs: [...(entry?.outputs ?? [])].sort(),
				bypass: node.bypass === true
			}
		};
	});
	return { nodes, edges };
}
