/**
 * The Y data model of a scene graph, exactly as the server's `collab/document.py` builds it:
 * `meta` {schema, epoch}; `nodes`: id → Y.Map {type, title, position: Y.Map {x, y}, params: Y.Map
 * (strings as Y.Text, numbers and booleans plain), bypass, color?, collapsed?, group?}; `edges`: "src:handle->dst:handle" →
 * Y.Map {source, source_handle, target, target_handle, via?}; `groups`: id → Y.Map {title, bounds: Y.Map {x, y,
 * width, height}, color?, bypass?} (collab/groups.ts).
 *
 * Entries are changed in place and never re-set, so two people editing different fields of one node
 * both keep their change, and text merges character by character. Each gesture is one transaction.
 */
import * as Y from 'yjs';
import type { Graph, GraphEdge, GraphNode } from '$lib/api/scenes';
import { readGroups } from './groups';

export type ParamValue = string | number | boolean | null | ParamValue[] | { [key: string]: ParamValue };
export type Point = { x: number; y: number };

/** The palette of node colours (the server's `graph/model.py` holds the same names). */
export const NODE_COLORS = ['red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple', 'pink'] as const;
export type NodeColor = (typeof NODE_COLORS)[number];

/** Transaction origin of edits made by this browser's user (undo and echo filters look for it). */
export const LOCAL = Symbol('local edit');

export const nodesOf = (doc: Y.Doc) => doc.getMap<Y.Map<unknown>>('nodes');
export const edgesOf = (doc: Y.Doc) => doc.getMap<Y.Map<unknown>>('edges');
export const metaOf = (doc: Y.Doc) => doc.getMap<unknown>('meta');
export const groupsOf = (doc: Y.Doc) => doc.getMap<Y.Map<unknown>>('groups');

/** Node and group ids: what the server takes (`graph/model.py`'s NODE_ID). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The epoch the document belongs to; a new one means the server rebuilt it (merging would corrupt it). */
export function epochOf(doc: Y.Doc): number | null {
	const epoch = metaOf(doc).get('epoch');
	return typeof epoch === 'number' ? epoch : null;
}

export function edgeKey(edge: GraphEdge): string {
	return `${edge.source}:${edge.source_handle}->${edge.target}:${edge.target_handle}`;
}

/** A fresh node id, unlike any in the document. */
export function newNodeId(doc: Y.Doc): string {
	const nodes = nodesOf(doc);
	let id = '';
	do id = `n_${Math.random().toString(16).slice(2, 10)}`;
	while (nodes.has(id));
	return id;
}

// -- reading ------------------------------------------------------------------------------------------

/** A Y value as plain JSON (Y.Text becomes its string). */
export function plain(value: unknown): ParamValue {
	if (value instanceof Y.Text) return value.toString();
	if (value instanceof Y.Map) {
		const out: Record<string, ParamValue> = {};
		value.forEach((inner, key) => (out[key] = plain(inner)));
		return out;
	}
	if (value instanceof Y.Array) return value.toArray().map(plain);
	if (value === undefined) return null;
	return value as ParamValue;
}

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

export function readNode(node: Y.Map<unknown>): GraphNode {
	const position = node.get('position');
	const params = node.get('params');
	const type = typeof node.get('type') === 'string' ? (node.get('type') as string) : 'unknown';
	const title = node.get('title');
	const read: GraphNode = {
		type,
		title: typeof title === 'string' ? title : '', // an empty title shows the type (the canvas's choice)
		position: position instanceof Y.Map ? { x: num(position.get('x')), y: num(position.get('y')) } : { x: 0, y: 0 },
		params: params instanceof Y.Map ? (plain(params) as Record<string, ParamValue>) : {},
		bypass: node.get('bypass') === true
	};
	// Unset unless set (as the server reads them): a colour off the palette is none.
	const color = node.get('color');
	if (NODE_COLORS.includes(color as NodeColor)) read.color = color as NodeColor;
	if (node.get('collapsed') === true) read.collapsed = true;
	const group = node.get('group');
	if (typeof group === 'string' && ID_PATTERN.test(group)) read.group = group;
	const review = node.get('review');
	if (review instanceof Y.Map) read.review = readReview(review);
	return read;
}

const SHOT_STATUSES = ['todo', 'in_progress', 'review', 'approved'] as const;
type ShotReview = NonNullable<GraphNode['review']>;

/** A shot's review state (set by the server, review/): read leniently, as the server reads it. */
function readReview(review: Y.Map<unknown>): ShotReview {
	const status = review.get('status');
	const read: ShotReview = { status: SHOT_STATUSES.includes(status as ShotReview['status']) ? (status as ShotReview['status']) : 'todo' };
	for (const key of ['status_by', 'status_at', 'take', 'take_by', 'take_at'] as const) {
		const value = review.get(key);
		if (typeof value === 'string' && value) read[key] = value;
	}
	const order = review.get('order');
	if (typeof order === 'number' && Number.isFinite(order)) read.order = order;
	return read;
}

export function readEdge(edge: Y.Map<unknown>): GraphEdge | null {
	const [source, source_handle, target, target_handle] = ['source', 'source_handle', 'target', 'target_handle'].map(
		(field) => edge.get(field)
	);
	if ([source, source_handle, target, target_handle].some((v) => typeof v !== 'string')) return null;
	const read = { source, source_handle, target, target_handle } as GraphEdge;
	const via = edge.get('via');
	if (via instanceof Y.Map) read.via = { x: num(via.get('x')), y: num(via.get('y')) }; // a reroute point
	return read;
}

/** The whole graph as plain JSON; edges whose ends are gone are left out (the server repairs them), and so is
 * a node's group when the group is gone. */
export function readGraph(doc: Y.Doc): Graph {
	const graph: Graph = { nodes: {}, edges: {}, groups: readGroups(doc) };
	nodesOf(doc).forEach((node, id) => {
		if (!(node instanceof Y.Map)) return;
		const read = readNode(node);
		if (read.group && !graph.groups?.[read.group]) delete read.group;
		graph.nodes[id] = read;
	});
	edgesOf(doc).forEach((entry, key) => {
		const edge = entry instanceof Y.Map ? readEdge(entry) : null;
		if (edge && graph.nodes[edge.source] && graph.nodes[edge.target]) graph.edges[key] = edge;
	});
	return graph;
}

// -- writing (call inside doc.transact) ----------------------------------------------------------------

/** A plain value as the Y type the server would store it as (strings → Y.Text, objects → Y.Map). */
export function yValue(value: ParamValue): unknown {
	if (typeof value === 'string') return new Y.Text(value);
	if (Array.isArray(value)) return value;
	if (value && typeof value === 'object') {
		const map = new Y.Map<unknown>();
		for (const [key, inner] of Object.entries(value)) map.set(key, yValue(inner));
		return map;
	}
	return value;
}

export function insertNode(doc: Y.Doc, id: string, node: GraphNode): void {
	const entry = new Y.Map<unknown>();
	nodesOf(doc).set(id, entry); // attached first: nested types are filled once they belong to the doc
	entry.set('type', node.type);
	entry.set('title', node.title ?? node.type);
	const position = new Y.Map<number>();
	entry.set('position', position);
	position.set('x', Math.round(node.position.x));
	position.set('y', Math.round(node.position.y));
	const params = new Y.Map<unknown>();
	entry.set('params', params);
	for (const [key, value] of Object.entries(node.params ?? {})) params.set(key, yValue(value as ParamValue));
	entry.set('bypass', node.bypass === true);
	if (node.color && NODE_COLORS.includes(node.color)) entry.set('color', node.color);
	if (node.collapsed === true) entry.set('collapsed', true);
	if (node.group && ID_PATTERN.test(node.group)) entry.set('group', node.group);
}

/** Sets (or, with null/false, unsets) a field of how the canvas draws a node: 'color' or 'collapsed'. */
export function setLook(doc: Y.Doc, id: string, field: 'color' | 'collapsed', value: NodeColor | true | null): boolean {
	const node = nodesOf(doc).get(id);
	if (!(node instanceof Y.Map) || (node.get(field) ?? null) === value) return false;
	if (value === null) node.delete(field);
	else node.set(field, value);
	return true;
}

export function moveNode(doc: Y.Doc, id: string, to: Point): boolean {
	const node = nodesOf(doc).get(id);
	if (!(node instanceof Y.Map)) return false;
	let position = node.get('position');
	if (!(position instanceof Y.Map)) {
		position = new Y.Map<number>();
		node.set('position', position);
	}
	const target = position as Y.Map<number>;
	const [x, y] = [Math.round(to.x), Math.round(to.y)];
	let changed = false;
	if (target.get('x') !== x) (target.set('x', x), (changed = true));
	if (target.get('y') !== y) (target.set('y', y), (changed = true));
	return changed;
}

/** Removes nodes and every edge that touches them, plus the edges named. */
export function removeElements(doc: Y.Doc, nodeIds: Iterable<string>, edgeKeys: Iterable<string>): void {
	const nodes = nodesOf(doc);
	const edges = edgesOf(doc);
	const gone = new Set(nodeIds);
	for (const id of gone) nodes.delete(id);
	const keys = new Set(edgeKeys);
	edges.forEach((entry, key) => {
		const edge = entry instanceof Y.Map ? readEdge(entry) : null;
		if (!edge || gone.has(edge.source) || gone.has(edge.target)) keys.add(key);
	});
	for (const key of keys) edges.delete(key);
}

/** Adds an edge (an input takes one edge: any other into the same handle is removed). */
export function insertEdge(doc: Y.Doc, edge: GraphEdge): string | null {
	const nodes = nodesOf(doc);
	if (edge.source === edge.target || !nodes.has(edge.source) || !nodes.has(edge.target)) return null;
	const edges = edgesOf(doc);
	const key = edgeKey(edge);
	edges.forEach((entry, other) => {
		const existing = entry instanceof Y.Map ? readEdge(entry) : null;
		if (other !== key && existing?.target === edge.target && existing.target_handle === edge.target_handle) {
			edges.delete(other);
		}
	});
	if (edges.get(key) instanceof Y.Map) return key;
	const entry = new Y.Map<unknown>();
	edges.set(key, entry);
	entry.set('source', edge.source);
	entry.set('source_handle', edge.source_handle);
	entry.set('target', edge.target);
	entry.set('target_handle', edge.target_handle);
	if (edge.via) setVia(doc, key, edge.via);
	return key;
}

/** Gives a link a reroute point it is drawn through, moves it, or (null) takes it away. */
export function setVia(doc: Y.Doc, key: string, to: Point | null): boolean {
	const edge = edgesOf(doc).get(key);
	if (!(edge instanceof Y.Map)) return false;
	if (!to) {
		if (!edge.has('via')) return false;
		edge.delete('via');
		return true;
	}
	let via = edge.get('via');
	if (!(via instanceof Y.Map)) {
		via = new Y.Map<number>();
		edge.set('via', via);
	}
	const target = via as Y.Map<number>;
	const [x, y] = [Math.round(to.x), Math.round(to.y)];
	let changed = false;
	if (target.get('x') !== x) (target.set('x', x), (changed = true));
	if (target.get('y') !== y) (target.set('y', y), (changed = true));
	return changed;
}

export function paramsOf(doc: Y.Doc, nodeId: string): Y.Map<unknown> | null {
	const node = nodesOf(doc).get(nodeId);
	if (!(node instanceof Y.Map)) return null;
	let params = node.get('params');
	if (!(params instanceof Y.Map)) {
		params = new Y.Map<unknown>();
		node.set('params', params);
	}
	return params as Y.Map<unknown>;
}

/** Sets a parameter; a string into an existing text is an edit of that text (so others' typing survives). */
export function writeParam(doc: Y.Doc, nodeId: string, key: string, value: ParamValue): void {
	const params = paramsOf(doc, nodeId);
	if (!params) return;
	const current = params.get(key);
	if (current instanceof Y.Text && typeof value === 'string') {
		editText(current, current.toString(), value);
		return;
	}
	if (current === value) return;
	params.set(key, yValue(value));
}

// -- text ---------------------------------------------------------------------------------------------

export interface TextChange {
	index: number;
	remove: number;
	insert: string;
}

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * The one splice that turns `before` into `after`. `caret` (where the cursor is in `after`, if known)
 * settles ambiguous cases such as typing "a" into "aa": the change happened before the caret.
 */
export function diffText(before: string, after: string, caret?: number): TextChange | null {
	if (before === after) return null;
	const limitSuffix = Math.min(before.length, caret === undefined ? after.length : after.length - caret);
	let suffix = 0;
	while (suffix < limitSuffix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++;
	// Never split a surrogate pair (an emoji) at the end of the change (🔔 → 🤔 share the low half)
	if (suffix > 0 && isLowSurrogate(after.charCodeAt(after.length - suffix))) suffix--;
	const limitPrefix = Math.min(before.length - suffix, after.length - suffix);
	let prefix = 0;
	while (prefix < limitPrefix && before[prefix] === after[prefix]) prefix++;
	// nor at its start (😀 → 😃 share the high half): widen the change to the whole character.
	if (prefix > 0 && isLowSurrogate(after.charCodeAt(prefix)) && isLowSurrogate(before.charCodeAt(prefix))) prefix--;
	return {
		index: prefix,
		remove: before.length - suffix - prefix,
		insert: after.slice(prefix, after.length - suffix)
	};
}

/** Applies the difference between `before` (the text's content) and `after` to a Y.Text. */
export function editText(text: Y.Text, before: string, after: string, caret?: number): void {
	const change = diffText(before, after, caret);
	if (!change) return;
	if (change.remove) text.delete(change.index, change.remove);
	if (change.insert) text.insert(change.index, change.insert);
}

/**
 * Where index `at` of the old text lands once a remote change (a Yjs delta over the old text) is
 * applied. Text inserted exactly at `at` goes after it: a caret stays where its owner was typing.
 */
export function transformIndex(at: number, delta: readonly { retain?: number; insert?: unknown; delete?: number }[]): number {
	let old = 0; // how much of the old text the delta has walked over
	let result = at;
	for (const op of delta) {
		if (old >= at) break;
		if (op.retain) old += op.retain;
		else if (op.delete) {
			result -= Math.min(op.delete, at - old);
			old += op.delete;
		} else if (typeof op.insert === 'string') result += op.insert.length;
	}
	return Math.max(0, result);
}
