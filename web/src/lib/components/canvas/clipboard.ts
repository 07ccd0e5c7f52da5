/**
 * Nodes on the clipboard: what Copy writes and Paste reads, within a scene, across scenes and projects (this
 * browser keeps the latest copy) and between browsers (the system clipboard holds it as JSON text).
 *
 * The format, version 1 (documented in docs/canvas.md):
 *
 *     {"format": "mediastudio/nodes", "version": 1,
 *      "nodes": {"<id>": {"type", "title", "position": {"x", "y"}, "params": {…}, "bypass", "color"?, "collapsed"?}},
 *      "edges": [{"source", "source_handle", "target", "target_handle", "via"?: {"x", "y"}}],
 *      "groups"?: {"<id>": {"title", "bounds": {"x", "y", "width", "height"}, "color"?, "bypass"?}}}
 *
 * A node names its group by `group`; a group is copied only with every node in it.
 *
 * Ids are only names within the copy: a paste gives every node a fresh id and keeps the edges between them.
 * Text pasted from the clipboard may come from anyone, so `readClipboard` checks everything as the server
 * would (known node kinds, bounded sizes and counts, parameters against the type's schema) and says what it
 * left out.
 */
import type { NodeType } from '$lib/api/engine';
import type { Bounds, GraphEdge, GraphGroup, GraphNode } from '$lib/api/scenes';
import { NODE_COLORS, type NodeColor, type ParamValue, type Point } from '$lib/collab/model';
import { invalid, paramSpecs } from '$lib/engine/params';

export const CLIPBOARD_FORMAT = 'mediastudio/nodes';
export const CLIPBOARD_VERSION = 1;
/** The most text a paste reads (a copy of the most nodes, with long prompts, fits). */
export const MAX_CLIPBOARD_CHARS = 1 << 20;
export const MAX_PASTE_NODES = 200;
export const MAX_PASTE_EDGES = 800;
export const MAX_PASTE_GROUPS = 50;
/** A group's frame is at least this big on a side (as the server's graph model). */
const FRAME_MIN = 40;
/** As the server's graph model: titles, type ids, node ids and handles. */
export const TITLE_MAX = 120;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Beyond this a position is nonsense (and would frame the graph to a dot). */
const FAR = 1_000_000;
/** A note's free-form parameters (it has no schema): how many, and how big each may be. */
const MAX_FREE_PARAMS = 64;
const MAX_FREE_PARAM_CHARS = 20_000;
/** Where a paste without a pointer lands: beside the originals. */
export const PASTE_OFFSET = { x: 40, y: 40 } as const;

export interface ClipboardFragment {
	format: typeof CLIPBOARD_FORMAT;
	version: typeof CLIPBOARD_VERSION;
	nodes: Record<string, GraphNode>;
	edges: GraphEdge[];
	/** The groups copied whole (every node in them copied). */
	groups?: Record<string, GraphGroup>;
}

/** What a paste read: the nodes it may add, and a sentence for each thing it left out. */
export interface ClipboardReading {
	fragment: ClipboardFragment | null;
	refused: string[];
}

/** The node types a paste knows (the server's list; notes are always known). */
export type KnownTypes = (type: string) => NodeType | undefined;

/** A copy of `ids` of a graph, with the edges between them (and no others), and the groups every node of
 * which is copied (a node copied without the rest of its group is copied in none). */
export function copyOf(
	graph: { nodes: Record<string, GraphNode>; edges: Record<string, GraphEdge>; groups?: Record<string, GraphGroup> },
	ids: Iterable<string>
): ClipboardFragment {
	const nodes: Record<string, GraphNode> = {};
	for (const id of ids) {
		const node = graph.nodes[id];
		if (node) nodes[id] = structuredClone(node);
	}
	const whole = (group: string) => Object.entries(graph.nodes).every(([id, node]) => node.group !== group || !!nodes[id]);
	const groups: Record<string, GraphGroup> = {};
	for (const node of Object.values(nodes)) {
		const group = node.group ? graph.groups?.[node.group] : undefined;
		if (group && whole(node.group!)) groups[node.group!] = structuredClone(group);
		else delete node.group;
	}
	const edges = Object.values(graph.edges).filter((edge) => nodes[edge.source] && nodes[edge.target]).map((edge) => ({ ...edge }));
	return { format: CLIPBOARD_FORMAT, version: CLIPBOARD_VERSION, nodes, edges, ...(Object.keys(groups).length ? { groups } : {}) };
}

export const toText = (fragment: ClipboardFragment): string => JSON.stringify(fragment);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const finite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const bounded = (value: number) => Math.max(-FAR, Math.min(FAR, Math.round(value)));

/** Reads text from a clipboard: null when it is not nodes at all (so plain text pasted is left alone). */
export function readClipboard(text: string, known: KnownTypes, genericType: string): ClipboardReading {
	if (text.length > MAX_CLIPBOARD_CHARS) {
		return { fragment: null, refused: [`The clipboard holds more than ${MAX_CLIPBOARD_CHARS / (1 << 20)} MB of text: nothing was pasted.`] };
	}
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch {
		return { fragment: null, refused: [] };
	}
	if (!isObject(data) || data['format'] !== CLIPBOARD_FORMAT) return { fragment: null, refused: [] };
	if (data['version'] !== CLIPBOARD_VERSION) {
		return { fragment: null, refused: [`These nodes were copied by another version of the studio (format ${String(data['version'])}): nothing was pasted.`] };
	}
	const refused: string[] = [];
	const nodes = readNodes(data['nodes'], known, genericType, refused);
	const edges = readEdges(data['edges'], nodes, known, genericType, refused);
	const groups = readGroups(data['groups'], refused);
	for (const node of Object.values(nodes)) if (node.group && !groups[node.group]) delete node.group;
	const grouped = Object.keys(groups).length ? { groups } : {};
	const fragment = Object.keys(nodes).length ? ({ format: CLIPBOARD_FORMAT, version: CLIPBOARD_VERSION, nodes, edges, ...grouped } as const) : null;
	if (!fragment && !refused.length) refused.push('The clipboard holds no nodes.');
	return { fragment, refused };
}

function readNodes(raw: unknown, known: KnownTypes, genericType: string, refused: string[]): Record<string, GraphNode> {
	const nodes: Record<string, GraphNode> = {};
	if (!isObject(raw)) {
		refused.push('The clipboard’s nodes are not a list of nodes.');
		return nodes;
	}
	const entries = Object.entries(raw);
	if (entries.length > MAX_PASTE_NODES) {
		refused.push(`A paste holds at most ${MAX_PASTE_NODES} nodes: ${entries.length - MAX_PASTE_NODES} were left out.`);
	}
	for (const [id, value] of entries.slice(0, MAX_PASTE_NODES)) {
		const node = readNode(id, value, known, genericType, refused);
		if (node) nodes[id] = node;
	}
	return nodes;
}

/** How a refusal names a copied node: by its title, as the person saw it (the copy's ids mean nothing to them). */
function nameOf(id: string, raw: Record<string, unknown>): string {
	const title = typeof raw['title'] === 'string' ? raw['title'].trim() : '';
	return title ? `“${[...title].slice(0, 40).join('')}${[...title].length > 40 ? '…' : ''}”` : NAME.test(id) ? `Node ${id}` : 'A node';
}

function readNode(id: string, raw: unknown, known: KnownTypes, genericType: string, refused: string[]): GraphNode | null {
	if (!NAME.test(id) || !isObject(raw)) {
		refused.push(`${isObject(raw) ? nameOf(id, raw) : NAME.test(id) ? `Node ${id}` : 'A node'} is not a node: left out.`);
		return null;
	}
	const name = nameOf(id, raw);
	const type = raw['type'];
	const nodeType = typeof type === 'string' && NAME.test(type) && type !== genericType ? known(type) : undefined;
	if (typeof type !== 'string' || (type !== genericType && !nodeType)) {
		refused.push(`${name}: “${String(type).slice(0, 64)}” is not a kind of node this studio has: left out.`);
		return null;
	}
	let title = typeof raw['title'] === 'string' ? raw['title'] : '';
	if ([...title].length > TITLE_MAX) {
		refused.push(`${name}: its title was cut to ${TITLE_MAX} characters.`);
		title = [...title].slice(0, TITLE_MAX).join('');
	}
	const position = isObject(raw['position']) ? raw['position'] : {};
	const node: GraphNode = {
		type,
		title: title || (nodeType?.title ?? type),
		position: { x: finite(position['x']) ? bounded(position['x']) : 0, y: finite(position['y']) ? bounded(position['y']) : 0 },
		params: nodeType ? typedParams(name, raw['params'], nodeType, refused) : freeParams(name, raw['params'], refused),
		bypass: raw['bypass'] === true
	};
	if (NODE_COLORS.includes(raw['color'] as NodeColor)) node.color = raw['color'] as NodeColor;
	else if (raw['color'] !== undefined && raw['color'] !== null) refused.push(`${name}: “${String(raw['color']).slice(0, 32)}” is not a node colour: left out.`);
	if (raw['collapsed'] === true) node.collapsed = true;
	if (typeof raw['group'] === 'string' && NAME.test(raw['group'])) node.group = raw['group'];
	return node;
}

/** The copied groups: ids and colours as the server takes them, titles cut, frames on the canvas. */
function readGroups(raw: unknown, refused: string[]): Record<string, GraphGroup> {
	const groups: Record<string, GraphGroup> = {};
	if (raw === undefined || raw === null) return groups;
	if (!isObject(raw)) {
		refused.push('The clipboard’s groups are not a list of groups: the nodes were pasted in none.');
		return groups;
	}
	const entries = Object.entries(raw);
	if (entries.length > MAX_PASTE_GROUPS) refused.push(`A paste holds at most ${MAX_PASTE_GROUPS} groups: ${entries.length - MAX_PASTE_GROUPS} were left out.`);
	for (const [id, value] of entries.slice(0, MAX_PASTE_GROUPS)) {
		if (!NAME.test(id) || !isObject(value)) continue;
		const box = isObject(value['bounds']) ? value['bounds'] : {};
		const side = (v: unknown) => Math.max(FRAME_MIN, finite(v) ? bounded(v) : FRAME_MIN);
		const bounds: Bounds = { x: finite(box['x']) ? bounded(box['x']) : 0, y: finite(box['y']) ? bounded(box['y']) : 0, width: side(box['width']), height: side(box['height']) };
		const title = typeof value['title'] === 'string' && value['title'].trim() ? [...value['title']].slice(0, TITLE_MAX).join('') : 'Group';
		const group: GraphGroup = { title, bounds };
		if (NODE_COLORS.includes(value['color'] as NodeColor)) group.color = value['color'] as NodeColor;
		if (value['bypass'] === true) group.bypass = true;
		groups[id] = group;
	}
	return groups;
}

/** A typed node's parameters: those of its type, each checked as the server checks it; the others left out. */
function typedParams(name: string, raw: unknown, type: NodeType, refused: string[]): Record<string, ParamValue> {
	const params: Record<string, ParamValue> = {};
	if (raw === undefined || raw === null) return params;
	if (!isObject(raw)) {
		refused.push(`${name}: its parameters are not a set of values: defaults used.`);
		return params;
	}
	const specs = new Map(paramSpecs(type.params_schema as Record<string, unknown>).map((spec) => [spec.key, spec]));
	for (const [key, value] of Object.entries(raw)) {
		const spec = specs.get(key);
		if (!spec) {
			refused.push(`${name}: ${type.title} has no parameter “${key.slice(0, 64)}”: left out.`);
			continue;
		}
		const problem = plainValue(value) ? invalid(spec, value as ParamValue) : 'Not a plain value.';
		if (problem) refused.push(`${name}: ${spec.label}: ${problem} Its default is used.`);
		else params[key] = value as ParamValue;
	}
	return params;
}

/** A note's parameters: any names, plain values of bounded size. */
function freeParams(name: string, raw: unknown, refused: string[]): Record<string, ParamValue> {
	const params: Record<string, ParamValue> = {};
	if (!isObject(raw)) return params;
	const entries = Object.entries(raw);
	if (entries.length > MAX_FREE_PARAMS) refused.push(`${name}: a note keeps at most ${MAX_FREE_PARAMS} values: the rest were left out.`);
	for (const [key, value] of entries.slice(0, MAX_FREE_PARAMS)) {
		if (!NAME.test(key) || !plainValue(value) || JSON.stringify(value).length > MAX_FREE_PARAM_CHARS) {
			refused.push(`${name}: the value “${key.slice(0, 64)}” is not a short plain value: left out.`);
		} else params[key] = value as ParamValue;
	}
	return params;
}

/** JSON of bounded depth: what a parameter may hold. */
function plainValue(value: unknown, depth = 0): boolean {
	if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
	if (typeof value === 'number') return Number.isFinite(value);
	if (depth >= 4) return false;
	if (Array.isArray(value)) return value.length <= 1000 && value.every((item) => plainValue(item, depth + 1));
	return isObject(value) && Object.keys(value).length <= 100 && Object.values(value).every((item) => plainValue(item, depth + 1));
}

function readEdges(raw: unknown, nodes: Record<string, GraphNode>, known: KnownTypes, genericType: string, refused: string[]): GraphEdge[] {
	if (raw === undefined) return [];
	if (!Array.isArray(raw)) {
		refused.push('The clipboard’s links are not a list: no links were pasted.');
		return [];
	}
	if (raw.length > MAX_PASTE_EDGES) refused.push(`A paste holds at most ${MAX_PASTE_EDGES} links: ${raw.length - MAX_PASTE_EDGES} were left out.`);
	const edges: GraphEdge[] = [];
	let dropped = 0;
	for (const edge of raw.slice(0, MAX_PASTE_EDGES)) {
		const ends = isObject(edge) ? [edge['source'], edge['source_handle'], edge['target'], edge['target_handle']] : [];
		if (ends.length !== 4 || !ends.every((end) => typeof end === 'string' && NAME.test(end))) {
			dropped++;
			continue;
		}
		const [source, sourceHandle, target, targetHandle] = ends as string[];
		const from = nodes[source!];
		const to = nodes[target!];
		if (!from || !to || source === target || !hasPort(from, 'outputs', sourceHandle!, known, genericType) || !hasPort(to, 'inputs', targetHandle!, known, genericType)) {
			dropped++;
			continue;
		}
		const link: GraphEdge = { source: source!, source_handle: sourceHandle!, target: target!, target_handle: targetHandle! };
		const via = isObject(edge) && isObject(edge['via']) ? edge['via'] : null;
		if (via && finite(via['x']) && finite(via['y'])) link.via = { x: bounded(via['x']), y: bounded(via['y']) };
		edges.push(link);
	}
	if (dropped) refused.push(`${dropped} link${dropped === 1 ? '' : 's'} between nodes that were not pasted, or ports they do not have: left out.`);
	return edges;
}

function hasPort(node: GraphNode, side: 'inputs' | 'outputs', handle: string, known: KnownTypes, genericType: string): boolean {
	if (node.type === genericType) return handle === (side === 'inputs' ? 'in' : 'out');
	return known(node.type)?.[side].some((port) => port.name === handle) ?? false;
}

// -- pasting --------------------------------------------------------------------------------------------

/**
 * The fragment with fresh ids (`fresh` answers one unused id per call), its edges following their nodes.
 * Answers the nodes by their new ids, the edges, and the map old id → new id.
 */
export function remapIds(
	fragment: Pick<ClipboardFragment, 'nodes' | 'edges'>,
	fresh: () => string
): { nodes: Record<string, GraphNode>; edges: GraphEdge[]; ids: Map<string, string> } {
	const ids = new Map<string, string>();
	const nodes: Record<string, GraphNode> = {};
	for (const [old, node] of Object.entries(fragment.nodes)) {
		const id = fresh();
		ids.set(old, id);
		nodes[id] = node;
	}
	const edges = fragment.edges.flatMap((edge) => {
		const source = ids.get(edge.source);
		const target = ids.get(edge.target);
		return source && target ? [{ ...edge, source, target }] : [];
	});
	return { nodes, edges, ids };
}

/** The fragment moved so that its top-left node lands at `at` (the pointer), or `PASTE_OFFSET` from where it was. */
export function placed(fragment: ClipboardFragment, at: Point | null): ClipboardFragment {
	const all = Object.values(fragment.nodes);
	if (!all.length) return fragment;
	const left = Math.min(...all.map((node) => node.position.x));
	const top = Math.min(...all.map((node) => node.position.y));
	const shift = at ? { x: Math.round(at.x - left), y: Math.round(at.y - top) } : PASTE_OFFSET;
	const move = (point: Point) => ({ x: point.x + shift.x, y: point.y + shift.y });
	const nodes = Object.fromEntries(Object.entries(fragment.nodes).map(([id, node]) => [id, { ...node, position: move(node.position) }]));
	const edges = fragment.edges.map((edge) => (edge.via ? { ...edge, via: move(edge.via) } : edge));
	if (!fragment.groups) return { ...fragment, nodes, edges };
	const groups = Object.fromEntries(
		Object.entries(fragment.groups).map(([id, group]) => [id, { ...group, bounds: { ...group.bounds, ...move(group.bounds) } }])
	);
	return { ...fragment, nodes, edges, groups };
}

// -- this browser's copy --------------------------------------------------------------------------------

const STORAGE_KEY = 'mediastudio.clipboard.v1';

/** Keeps the latest copy in this browser (other scenes, projects and tabs paste it). */
export function keepLocally(text: string): void {
	try {
		localStorage.setItem(STORAGE_KEY, text);
	} catch {
		// storage full or disabled: the system clipboard still has it
	}
}

export function localCopy(): string | null {
	try {
		return localStorage.getItem(STORAGE_KEY);
	} catch {
		return null;
	}
}
