/**
 * A scene graph (plain snapshots of the live document, or a stored version) as Svelte Flow's nodes
 * and edges. `reconcile` keeps what Svelte Flow owns (selection, measured size, a drag in progress)
 * and reuses unchanged nodes, so remote edits never reset the user's own view or drag.
 */
import type { Edge, Node } from '@xyflow/svelte';
import type { GraphEdge, GraphNode } from '$lib/api/scenes';

export interface GraphNodeData extends Record<string, unknown> {
	title: string;
	type: string;
	/** Input and output ports: a generic node's own, plus those the edges tell of (typed nodes' schemas come with the engine). */
	inputs: string[];
	outputs: string[];
	bypass: boolean;
}

export type FlowNode = Node<GraphNodeData, 'graph'>;
type Point = { x: number; y: number };

/** Screen (client) coordinates to graph coordinates, under the current pan and zoom. */
export type ToFlow = (point: Point) => Point;

/** Ports every generic node has: one input, one output. */
export const GENERIC_PORTS = { inputs: ['in'], outputs: ['out'] } as const;

function humanize(type: string): string {
	const words = type.replace(/[_-]+/g, ' ').trim();
	return words.charAt(0).toUpperCase() + words.slice(1);
}

function portsOf(nodes: Record<string, GraphNode>, edges: Record<string, GraphEdge>) {
	const ports = new Map<string, { inputs: Set<string>; outputs: Set<string> }>();
	const of = (id: string) => {
		let entry = ports.get(id);
		if (!entry) {
			const generic = nodes[id]?.type === 'generic';
			ports.set(id, (entry = { inputs: new Set(generic ? GENERIC_PORTS.inputs : []), outputs: new Set(generic ? GENERIC_PORTS.outputs : []) }));
		}
		return entry;
	};
	for (const id of Object.keys(nodes)) of(id);
	for (const edge of Object.values(edges)) {
		of(edge.source).outputs.add(edge.source_handle);
		of(edge.target).inputs.add(edge.target_handle);
	}
	return ports;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

function sameData(a: GraphNodeData, b: GraphNodeData): boolean {
	return a.title === b.title && a.type === b.type && a.bypass === b.bypass && sameList(a.inputs, b.inputs) && sameList(a.outputs, b.outputs);
}

export interface Reconciled {
	nodes: FlowNode[];
	edges: Edge[];
	/** Each node's position as the graph has it (what a later user move is measured against). */
	positions: Map<string, Point>;
}

export function reconcile(
	previous: { nodes: readonly FlowNode[]; edges: readonly Edge[] },
	graph: { nodes: Record<string, GraphNode>; edges: Record<string, GraphEdge> },
	readonly: boolean
): Reconciled {
	const ports = portsOf(graph.nodes, graph.edges);
	const before = new Map(previous.nodes.map((node) => [node.id, node]));
	const positions = new Map<string, Point>();
	const nodes = Object.entries(graph.nodes).map(([id, stored]): FlowNode => {
		const entry = ports.get(id);
		const position = { x: stored.position?.x ?? 0, y: stored.position?.y ?? 0 };
		positions.set(id, position);
		const data: GraphNodeData = {
			title: stored.title || humanize(stored.type),
			type: stored.type,
			inputs: [...(entry?.inputs ?? [])].sort(),
			outputs: [...(entry?.outputs ?? [])].sort(),
			bypass: stored.bypass === true
		};
		const prev = before.get(id);
		// The user's own drag wins over the echo of its throttled writes (and over others' moves of it).
		const shownAt = prev?.dragging ? prev.position : position;
		if (prev && prev.position.x === shownAt.x && prev.position.y === shownAt.y && sameData(prev.data, data) && prev.draggable === !readonly) {
			return prev;
		}
		return { ...prev, id, type: 'graph', position: shownAt, draggable: !readonly, data };
	});
	const edgesBefore = new Map(previous.edges.map((edge) => [edge.id, edge]));
	const edges = Object.entries(graph.edges).map(([key, edge]): Edge => {
		const prev = edgesBefore.get(key);
		if (prev) return prev; // an edge's key is its content: the same key is the same edge
		return { id: key, source: edge.source, target: edge.target, sourceHandle: edge.source_handle, targetHandle: edge.target_handle };
	});
	return { nodes, edges, positions };
}

/** Stored positions of the nodes the user moved (Svelte Flow's position differs from the graph's). */
export function movedNodes(nodes: readonly FlowNode[], positions: Map<string, Point>, onlyIds?: Set<string>): Record<string, Point> {
	const moved: Record<string, Point> = {};
	for (const node of nodes) {
		if (onlyIds && !onlyIds.has(node.id)) continue;
		const stored = positions.get(node.id);
		if (!stored) continue;
		const [x, y] = [Math.round(node.position.x), Math.round(node.position.y)];
		if (x !== stored.x || y !== stored.y) moved[node.id] = { x, y };
	}
	return moved;
}
