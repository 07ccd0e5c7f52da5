/**
 * A scene graph (plain snapshots of the live document, or a stored version) as Svelte Flow's nodes
 * and edges. `reconcile` keeps what Svelte Flow owns (selection, measured size, a drag in progress)
 * and reuses unchanged nodes, so remote edits never reset the user's own view or drag.
 *
 * Typed nodes take their ports from their node type (`GET /api/v1/node-types`); generic notes have
 * one untyped input and output; a node of a type the server does not know shows the ports its
 * edges use.
 */
import type { Edge, Node } from '@xyflow/svelte';
import type { NodeType } from '$lib/api/engine';
import type { GraphEdge, GraphNode } from '$lib/api/scenes';
import type { NodeColor } from '$lib/collab/model';
import { GENERIC_TYPE } from '$lib/collab/sceneDoc.svelte';
import { ANY, refusal as refusalText } from '$lib/engine/ports';
import { defaultParams } from '$lib/engine/params';

export interface PortView {
	name: string;
	type: string;
	required: boolean;
	description: string;
	connected: boolean;
	/** The parameter used when nothing is connected (text_to_image's prompt: `prompt_text`). */
	fallback: string | null;
	/** That parameter is filled in: the input may stay unconnected. */
	fallbackFilled: boolean;
}

export interface GraphNodeData extends Record<string, unknown> {
	title: string;
	type: string;
	/** The type's name in words ("Text to image"); the id for a type the server does not know. */
	typeTitle: string;
	/** The type's category (the node's accent colour); '' when unknown. */
	category: string;
	/** Known to the engine (typed ports and a parameter schema). */
	typed: boolean;
	outputNode: boolean;
	inputs: PortView[];
	outputs: PortView[];
	/** A line or two of what the node is set to ("64×64 · 2 steps"), or a prompt's text. */
	summary: string;
	bypass: boolean;
	/** From the palette (canvas/colors.ts); null: the node's own look. */
	color: NodeColor | null;
	/** Drawn as its title bar only. */
	collapsed: boolean;
}

export type FlowNode = Node<GraphNodeData, 'graph'>;
type Point = { x: number; y: number };

/** Screen (client) coordinates to graph coordinates, under the current pan and zoom. */
export type ToFlow = (point: Point) => Point;

/** Ports every generic note has: one input, one output, untyped. */
export const GENERIC_PORTS = { inputs: ['in'], outputs: ['out'] } as const;

export type TypeLookup = (type: string) => NodeType | undefined;

function humanize(type: string): string {
	const words = type.replace(/[_-]+/g, ' ').trim();
	return words.charAt(0).toUpperCase() + words.slice(1);
}

const port = (name: string, type: string, extra: Partial<PortView> = {}): PortView => ({
	name,
	type,
	required: false,
	description: '',
	connected: false,
	fallback: null,
	fallbackFilled: false,
	...extra
});

const filled = (value: unknown) => value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && !value.length);

/** Each node's inputs and outputs: the type's, then any other an edge names (so nothing connected is hidden). */
function portsOf(node: GraphNode, known: NodeType | undefined, used: { inputs: Set<string>; outputs: Set<string> }) {
	let inputs: PortView[];
	let outputs: PortView[];
	if (known && node.type !== GENERIC_TYPE) {
		const params = node.params ?? {};
		inputs = known.inputs.map((p) =>
			port(p.name, p.type, {
				required: p.required ?? true,
				description: p.description ?? '',
				fallback: p.fallback_param ?? null,
				fallbackFilled: !!p.fallback_param && filled(params[p.fallback_param])
			})
		);
		outputs = known.outputs.map((p) => port(p.name, p.type, { description: p.description ?? '' }));
	} else if (node.type === GENERIC_TYPE) {
		inputs = GENERIC_PORTS.inputs.map((name) => port(name, ANY));
		outputs = GENERIC_PORTS.outputs.map((name) => port(name, ANY));
	} else {
		inputs = [];
		outputs = [];
	}
	for (const name of [...used.inputs].sort()) if (!inputs.some((p) => p.name === name)) inputs.push(port(name, ANY));
	for (const name of [...used.outputs].sort()) if (!outputs.some((p) => p.name === name)) outputs.push(port(name, ANY));
	for (const input of inputs) input.connected = used.inputs.has(input.name);
	for (const output of outputs) output.connected = used.outputs.has(output.name);
	return { inputs, outputs };
}

const defaults = new WeakMap<NodeType, Record<string, unknown>>();

function defaultsOf(known: NodeType | undefined): Record<string, unknown> {
	if (!known) return {};
	let found = defaults.get(known);
	if (!found) defaults.set(known, (found = defaultParams(known.params_schema)));
	return found;
}

const GENERATORS = new Set(['text_to_image', 'image_to_image', 'inpaint', 'text_to_video', 'image_to_video']);

function ordinal(n: number): string {
	const tens = n % 100;
	const suffix = tens >= 11 && tens <= 13 ? 'th' : ({ 1: 'st', 2: 'nd', 3: 'rd' } as Record<number, string>)[n % 10] ?? 'th';
	return `${n}${suffix}`;
}

/** What a node is set to, in a few words (its parameters over the type's defaults). */
export function summarize(type: string, params: Record<string, unknown>, known: NodeType | undefined): string {
	const p = { ...defaultsOf(known), ...params } as Record<string, unknown>;
	const text = (value: unknown) => (typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value));
	if (type === 'prompt' || type === 'negative_prompt') return text(p['text']);
	if (type === 'seed') return `${text(p['value'])} · ${text(p['mode'])}`;
	if (type === 'model_loader') return text(p['model']) || 'Default model';
	if (GENERATORS.has(type)) {
		const parts = [`${text(p['width'])}×${text(p['height'])}`, `${text(p['steps'])} steps`];
		if (p['strength'] !== undefined) parts.push(`strength ${text(p['strength'])}`);
		return parts.join(' · ');
	}
	if (type === 'upscale_model') {
		const factor = Number(p['factor'] ?? 0);
		return [`${text(p['steps'])} steps`, `noise ${text(p['noise_level'])}`, factor ? `then ×${factor}` : ''].filter(Boolean).join(' · ');
	}
	if (type === 'upscale') return `×${text(p['factor'])} · ${text(p['method'])}`;
	if (type === 'load_image') {
		const many = Array.isArray(p['asset_ids']) ? p['asset_ids'].length : 0;
		return many ? `${many} picture${many === 1 ? '' : 's'}` : p['asset_id'] ? '1 picture' : 'No picture picked';
	}
	if (type === 'load_video') {
		if (!p['asset_id']) return 'No clip picked';
		const every = Number(p['every'] ?? 1);
		return [`up to ${text(p['max_frames'])} frames`, every > 1 ? `every ${ordinal(every)} frame` : '', Number(p['start'] ?? 0) > 0 ? `from ${text(p['start'])} s` : '']
			.filter(Boolean)
			.join(' · ');
	}
	if (type === 'image_sequence_to_video') return `${text(p['fps'])} fps · ${text(p['codec'])}`;
	if (type === 'shot') return text(p['name']);
	if (type === 'controlnet') {
		const span = Number(p['start'] ?? 0) > 0 || Number(p['end'] ?? 1) < 1 ? `steps ${text(p['start'])}–${text(p['end'])}` : '';
		return [text(p['controlnet']) || 'No ControlNet picked', `strength ${text(p['strength'])}`, span].filter(Boolean).join(' · ');
	}
	if (type === 'control_image') {
		return p['preprocessor'] === 'canny' ? `canny ${text(p['low_threshold'])}/${text(p['high_threshold'])}` : text(p['preprocessor']);
	}
	return '';
}

const samePort = (a: PortView, b: PortView): boolean =>
	a.name === b.name &&
	a.type === b.type &&
	a.required === b.required &&
	a.description === b.description &&
	a.connected === b.connected &&
	a.fallback === b.fallback &&
	a.fallbackFilled === b.fallbackFilled;

const samePorts = (a: readonly PortView[], b: readonly PortView[]): boolean =>
	a.length === b.length && a.every((port, i) => samePort(port, b[i]!));

/** Field by field (every remote edit compares each node of the scene: no serialising). */
function sameData(a: GraphNodeData, b: GraphNodeData): boolean {
	return (
		a.title === b.title &&
		a.type === b.type &&
		a.typeTitle === b.typeTitle &&
		a.category === b.category &&
		a.typed === b.typed &&
		a.outputNode === b.outputNode &&
		a.summary === b.summary &&
		a.bypass === b.bypass &&
		a.color === b.color &&
		a.collapsed === b.collapsed &&
		samePorts(a.inputs, b.inputs) &&
		samePorts(a.outputs, b.outputs)
	);
}

/** `next`, or `previous` itself when it holds the very same items in the same order. */
function sameOr<T>(previous: readonly T[], next: T[]): T[] {
	return previous.length === next.length && next.every((item, i) => item === previous[i]) ? (previous as T[]) : next;
}

/** What a node of the graph shows, from its stored snapshot, its type and the ports its edges use. */
function dataOf(stored: GraphNode, known: NodeType | undefined, used: { inputs: Set<string>; outputs: Set<string> }): GraphNodeData {
	const { inputs, outputs } = portsOf(stored, known, used);
	return {
		// A node given no title holds its type id as one (the server's reading): its type's title shows.
		title: stored.title && stored.title !== stored.type ? stored.title : known?.title || humanize(stored.type),
		type: stored.type,
		typeTitle: stored.type === GENERIC_TYPE ? GENERIC_TYPE : (known?.title ?? stored.type),
		category: known?.category ?? '',
		typed: !!known && stored.type !== GENERIC_TYPE,
		outputNode: known?.output_node ?? false,
		inputs,
		outputs,
		summary: summarize(stored.type, stored.params ?? {}, known),
		bypass: stored.bypass === true,
		color: stored.color ?? null,
		collapsed: stored.collapsed === true
	};
}

/** Each stored node snapshot's data, with the type and the used ports it was worked out for. */
const derived = new WeakMap<GraphNode, { known: NodeType | undefined; used: string; data: GraphNodeData }>();

export interface Reconciled {
	nodes: FlowNode[];
	edges: Edge[];
	/** Each node's position as the graph has it (what a later user move is measured against). */
	positions: Map<string, Point>;
}

export function reconcile(
	previous: { nodes: readonly FlowNode[]; edges: readonly Edge[] },
	graph: { nodes: Record<string, GraphNode>; edges: Record<string, GraphEdge> },
	readonly: boolean,
	typeOf: TypeLookup = () => undefined
): Reconciled {
	const used = new Map<string, { inputs: Set<string>; outputs: Set<string> }>();
	const usedBy = (id: string) => {
		let entry = used.get(id);
		if (!entry) used.set(id, (entry = { inputs: new Set(), outputs: new Set() }));
		return entry;
	};
	for (const edge of Object.values(graph.edges)) {
		usedBy(edge.source).outputs.add(edge.source_handle);
		usedBy(edge.target).inputs.add(edge.target_handle);
	}
	const before = new Map(previous.nodes.map((node) => [node.id, node]));
	const positions = new Map<string, Point>();
	const nodes = Object.entries(graph.nodes).map(([id, stored]): FlowNode => {
		const known = typeOf(stored.type);
		const position = { x: stored.position?.x ?? 0, y: stored.position?.y ?? 0 };
		positions.set(id, position);
		const use = usedBy(id);
		const usedKey = `${[...use.inputs].join(',')}|${[...use.outputs].join(',')}`;
		const prev = before.get(id);
		// The scene document hands out a new snapshot of a node only when it changed: an untouched one keeps its
		// data as worked out before (its ports and summary are not worked out again for every remote edit).
		const memo = derived.get(stored);
		let data = memo && memo.known === known && memo.used === usedKey ? memo.data : dataOf(stored, known, use);
		if (prev && prev.data !== data && sameData(prev.data, data)) data = prev.data;
		derived.set(stored, { known, used: usedKey, data });
		// The user's own drag wins over the echo of its throttled writes (and over others' moves of it).
		const shownAt = prev?.dragging ? prev.position : position;
		if (prev && prev.position.x === shownAt.x && prev.position.y === shownAt.y && prev.data === data && prev.draggable === !readonly) {
			return prev;
		}
		return { ...prev, id, type: 'graph', position: shownAt, draggable: !readonly, data };
	});
	const edgesBefore = new Map(previous.edges.map((edge) => [edge.id, edge]));
	const edges = Object.entries(graph.edges).map(([key, edge]): Edge => {
		const prev = edgesBefore.get(key);
		// An edge's key is its content (the same key is the same edge), but for a reroute point (RerouteEdge).
		const via = prev?.data?.['via'] as Point | undefined;
		if (prev && via?.x === edge.via?.x && via?.y === edge.via?.y) return prev;
		const line: Edge = { ...prev, id: key, source: edge.source, target: edge.target, sourceHandle: edge.source_handle, targetHandle: edge.target_handle };
		if (edge.via) return { ...line, type: 'reroute', data: { via: { x: edge.via.x, y: edge.via.y } } };
		delete line.type;
		delete line.data;
		return line;
	});
	// Unchanged arrays are given back as they were: Svelte Flow re-adopts every node when the nodes array is
	// another one, and rebuilds its connection lookup and relays every edge when the edges array is.
	return { nodes: sameOr(previous.nodes, nodes), edges: sameOr(previous.edges, edges), positions };
}

/** Stored positions of the nodes the user moved (Svelte Flow's position differs from the graph's). */
export function movedNodes(nodes: readonly { id: string; position: Point }[], positions: Map<string, Point>, onlyIds?: Set<string>): Record<string, Point> {
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

/** Why connecting output `from` to input `to` is refused, or null when it fits. */
export function connectionRefusal(
	nodes: ReadonlyMap<string, FlowNode>,
	from: { node: string; handle: string },
	to: { node: string; handle: string }
): string | null {
	if (from.node === to.node) return 'A node cannot feed itself.';
	const source = nodes.get(from.node);
	const target = nodes.get(to.node);
	if (!source || !target) return null;
	const output = source.data.outputs.find((p) => p.name === from.handle);
	const input = target.data.inputs.find((p) => p.name === to.handle);
	if (!output || !input || output.type === ANY || input.type === ANY) return null;
	return refusalText(output.type, input.name, input.type, source.data.title);
}


/** Node titles are drawn at 12 px (GraphNode's styles). */
export const TITLE_PX = 12;
/** The smallest a title may be drawn on a narrow canvas when a graph is framed, and what "narrow" is. */
export const READABLE_TITLE_PX = 11;
export const NARROW_CANVAS = 480;

export interface FitOptions {
	nodes?: { id: string }[];
	padding: number;
	minZoom?: number;
	maxZoom: number;
	duration?: number;
}

/** How a graph (or the node in focus) is framed on a canvas `width` px wide: on a narrow one, never at a
 * scale whose titles are too small to read (the graph is centred and may run past the edges). */
export function fitOptions(width: number, focus: string | null): FitOptions {
	const readable = width < NARROW_CANVAS ? { minZoom: READABLE_TITLE_PX / TITLE_PX } : {};
	return focus
		? { nodes: [{ id: focus }], padding: 0.8, maxZoom: 1, duration: 200, ...readable }
		: { padding: 0.2, maxZoom: 1.25, ...readable };
}
