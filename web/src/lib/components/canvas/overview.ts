/**
 * The canvas's overview: zoomed out far over a big graph, the whole graph is drawn on one `<canvas>` (node
 * frames with their title and colour, the groups' frames, the edges, selections and other people's marks)
 * instead of hundreds of cards and edge paths. Chromium drawing, layerizing, rastering and hit testing ~300
 * positioned cards in software was most of a pan or zoom's frame there (benchmarks/README.md, "## ui").
 *
 * This module is the pure part: when the overview is shown, the scene it draws, the order it draws it in,
 * which node a point is on (the overview's own hit test: Svelte Flow's cards are not hit-tested meanwhile),
 * and the drawing itself on a 2D context.
 */
import { NODE_COLOR_SHADES } from './colors';
import type { FlowNode, GraphNodeData } from './flow';
import type { FlowFrame } from './frames';
import type { NodeMarks } from './remote';

/** Below this zoom a big graph is drawn as the overview (titles are under 4 px high there). */
export const OVERVIEW_ZOOM = 0.35;
/** …when at least this many nodes are in view: fewer cards cost little to draw, and show more as cards. */
export const OVERVIEW_MIN_NODES = 50;

export interface Point {
	x: number;
	y: number;
}

export interface Box {
	x: number;
	y: number;
	width: number;
	height: number;
}

export interface Viewport {
	x: number;
	y: number;
	zoom: number;
}

export interface OverviewNode extends Box {
	id: string;
	title: string;
	/** The node's accent (its family's colour: the card's top border). */
	accent: string;
	/** The palette colour the node was given (its title bar's shade), or null. */
	fill: string | null;
	selected: boolean;
	/** The colours of the other people who select or drag it (a ring each). */
	rings: string[];
	bypass: boolean;
	/** It has problems, or its run failed. */
	bad: boolean;
	running: boolean;
}

export interface OverviewFrame extends Box {
	id: string;
	title: string;
	fill: string | null;
	selected: boolean;
	bypass: boolean;
}

export interface OverviewEdge {
	id: string;
	from: Point;
	to: Point;
	selected: boolean;
}

export interface OverviewScene {
	frames: OverviewFrame[];
	edges: OverviewEdge[];
	nodes: OverviewNode[];
}

/** What the overview draws a node from: the canvas's node, others' marks on it (the same object while they do
 * not change: remote.ts), its run state. */
export interface NodeInput {
	node: FlowNode;
	marks: NodeMarks | undefined;
	bad: boolean;
	running: boolean;
}

/** A node's box on the canvas: its measured size, or a guess before it is measured. */
export const boxOf = (node: FlowNode | FlowFrame): Box => ({
	x: node.position.x,
	y: node.position.y,
	width: node.measured?.width ?? node.width ?? 220,
	height: node.measured?.height ?? node.height ?? 80
});

const sameList = <T>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((item, i) => item === b[i]);

function sameNode(a: OverviewNode, b: OverviewNode): boolean {
	return (
		a.id === b.id &&
		a.x === b.x &&
		a.y === b.y &&
		a.width === b.width &&
		a.height === b.height &&
		a.title === b.title &&
		a.accent === b.accent &&
		a.fill === b.fill &&
		a.selected === b.selected &&
		a.bypass === b.bypass &&
		a.bad === b.bad &&
		a.running === b.running &&
		sameList(a.rings, b.rings)
	);
}

const sameEdge = (a: OverviewEdge, b: OverviewEdge) =>
	a.id === b.id && a.selected === b.selected && a.from.x === b.from.x && a.from.y === b.from.y && a.to.x === b.to.x && a.to.y === b.to.y;

const sameFrame = (a: OverviewFrame, b: OverviewFrame) =>
	a.id === b.id && a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height && a.title === b.title && a.fill === b.fill && a.selected === b.selected && a.bypass === b.bypass;

function drawnNode({ node, marks, bad, running }: NodeInput): OverviewNode {
	const rings = [...new Set([...(marks?.selectedBy ?? []), ...(marks?.draggedBy ?? [])].map((user) => user.color))];
	return {
		id: node.id,
		...boxOf(node),
		title: node.data.title,
		accent: FAMILY_ACCENTS[familyOf(node.data)] ?? FAMILY_ACCENTS.other!,
		fill: node.data.color ? NODE_COLOR_SHADES[node.data.color].shade : null,
		selected: !!node.selected,
		rings,
		bypass: node.data.bypass,
		bad,
		running
	};
}

const drawnFrame = (frame: FlowFrame): OverviewFrame => ({
	id: frame.id,
	...boxOf(frame),
	title: frame.data.title,
	fill: frame.data.color ? NODE_COLOR_SHADES[frame.data.color].shade : null,
	selected: !!frame.selected,
	bypass: frame.data.bypass
});

/** Keeps the entries of `kept` whose ids are among `items` (a removed node's is forgotten). */
function prune<T>(kept: Map<string, T>, items: readonly { id: string }[]): void {
	if (kept.size <= items.length) return;
	const ids = new Set(items.map((item) => item.id));
	for (const id of kept.keys()) if (!ids.has(id)) kept.delete(id);
}

/**
 * The overview's scene, kept node by node: a node is worked out again only when its canvas node, others' marks
 * on it or its run state is another, and keeps its drawn entry when nothing drawn of it changed (a seed's value,
 * a prompt's text). While nothing drawn changed at all, the very same scene comes back, so nothing is drawn
 * again for an edit that shows nowhere on it.
 */
export class OverviewScenes {
	#nodes = new Map<string, { input: NodeInput; drawn: OverviewNode }>();
	#frames = new Map<string, { from: FlowFrame; drawn: OverviewFrame }>();
	#edges = new Map<string, OverviewEdge>();
	#scene: OverviewScene = { frames: [], edges: [], nodes: [] };

	/** The scene of these frames, nodes and edges (each edge from its ends on the canvas). */
	scene(frames: readonly FlowFrame[], nodes: readonly NodeInput[], edges: readonly OverviewEdge[]): OverviewScene {
		const next: OverviewScene = {
			frames: frames.map((frame) => this.#frame(frame)),
			edges: edges.map((edge) => this.#edge(edge)),
			nodes: nodes.map((input) => this.#node(input))
		};
		prune(this.#frames, frames);
		prune(this.#edges, edges);
		prune(this.#nodes, next.nodes);
		const before = this.#scene;
		if (sameList(before.frames, next.frames) && sameList(before.edges, next.edges) && sameList(before.nodes, next.nodes)) return before;
		return (this.#scene = next);
	}

	#node(input: NodeInput): OverviewNode {
		const kept = this.#nodes.get(input.node.id);
		const was = kept?.input;
		if (kept && was!.node === input.node && was!.marks === input.marks && was!.bad === input.bad && was!.running === input.running) return kept.drawn;
		const drawn = drawnNode(input);
		const shown = kept && sameNode(kept.drawn, drawn) ? kept.drawn : drawn;
		this.#nodes.set(input.node.id, { input, drawn: shown });
		return shown;
	}

	#frame(frame: FlowFrame): OverviewFrame {
		const kept = this.#frames.get(frame.id);
		if (kept?.from === frame) return kept.drawn;
		const drawn = drawnFrame(frame);
		const shown = kept && sameFrame(kept.drawn, drawn) ? kept.drawn : drawn;
		this.#frames.set(frame.id, { from: frame, drawn: shown });
		return shown;
	}

	#edge(edge: OverviewEdge): OverviewEdge {
		const kept = this.#edges.get(edge.id);
		if (kept && sameEdge(kept, edge)) return kept;
		this.#edges.set(edge.id, edge);
		return edge;
	}
}

/** The boxes of `boxes` that lie (partly) in the view of `width` × `height` screen pixels. */
export function countInView(boxes: Iterable<Box>, viewport: Viewport, width: number, height: number): number {
	const left = -viewport.x / viewport.zoom;
	const top = -viewport.y / viewport.zoom;
	const right = left + width / viewport.zoom;
	const bottom = top + height / viewport.zoom;
	let count = 0;
	for (const box of boxes) if (box.x < right && box.x + box.width > left && box.y < bottom && box.y + box.height > top) count++;
	return count;
}

/** Whether the overview is drawn: zoomed out below `OVERVIEW_ZOOM` with `OVERVIEW_MIN_NODES` or more nodes in view. */
export const showsOverview = (zoom: number, inView: number): boolean => zoom < OVERVIEW_ZOOM && inView >= OVERVIEW_MIN_NODES;

/** The nodes in the order they are drawn: as Svelte Flow stacks its cards, the selected ones over the others. */
export function drawOrder(nodes: readonly OverviewNode[]): OverviewNode[] {
	return [...nodes.filter((node) => !node.selected), ...nodes.filter((node) => node.selected)];
}

/** The graph point under a screen point (relative to the canvas's corner). */
export const toGraph = (point: Point, viewport: Viewport): Point => ({
	x: (point.x - viewport.x) / viewport.zoom,
	y: (point.y - viewport.y) / viewport.zoom
});

/**
 * The node under a screen point (relative to the canvas's corner): the topmost one drawn there, or null.
 * `slop`: screen pixels around each node that count as on it (a finger, a node a few pixels wide).
 */
export function nodeAt(scene: Pick<OverviewScene, 'nodes'>, point: Point, viewport: Viewport, slop = 2): OverviewNode | null {
	const at = toGraph(point, viewport);
	const pad = slop / viewport.zoom;
	const order = drawOrder(scene.nodes);
	for (let i = order.length - 1; i >= 0; i--) {
		const node = order[i]!;
		if (at.x >= node.x - pad && at.x <= node.x + node.width + pad && at.y >= node.y - pad && at.y <= node.y + node.height + pad) return node;
	}
	return null;
}

// One accent per category of node, so a graph reads at a glance: text in, models, generation, outputs.
const FAMILIES: Record<string, string> = {
	Text: 'text',
	Values: 'values',
	Models: 'model',
	Input: 'input',
	Generate: 'generate',
	Image: 'image',
	Video: 'video',
	Output: 'output'
};

/** The node's family (its accent colour), from its type's category or, for a type not known, its name. */
export function familyOf(data: Pick<GraphNodeData, 'category' | 'type'>): string {
	return (
		FAMILIES[data.category] ??
		(data.type === 'shot' ? 'output' : /prompt|text/.test(data.type) ? 'text' : /model|lora|loader/.test(data.type) ? 'model' : 'other')
	);
}

/** Each family's accent (GraphNode's `--family`); `generate` is the studio's accent. */
export const FAMILY_ACCENTS: Record<string, string> = {
	text: '#46a758',
	values: '#d6a935',
	model: '#8e4ec6',
	input: '#2ea9a1',
	generate: '#4c8dff',
	image: '#e5793b',
	video: '#d6487e',
	output: '#ffb224',
	other: '#6b7385'
};

/** The colours the overview draws with (the studio's CSS variables, read once from the page). */
export interface OverviewColors {
	panel: string;
	line: string;
	lineStrong: string;
	edge: string;
	accent: string;
	bad: string;
	bypass: string;
	text: string;
	muted: string;
}

/** What of a 2D context the drawing uses (a recorder stands in for it in the unit tests). */
export type Pen = Pick<
	CanvasRenderingContext2D,
	| 'setTransform'
	| 'clearRect'
	| 'beginPath'
	| 'moveTo'
	| 'bezierCurveTo'
	| 'rect'
	| 'fill'
	| 'stroke'
	| 'fillRect'
	| 'strokeRect'
	| 'fillText'
	| 'save'
	| 'restore'
	| 'clip'
	| 'fillStyle'
	| 'strokeStyle'
	| 'lineWidth'
	| 'font'
	| 'textBaseline'
	| 'globalAlpha'
>;

/** Svelte Flow's bezier: the control points' offset from each end, by how far the ends are apart. */
function controlOffset(distance: number): number {
	return distance >= 0 ? 0.5 * distance : 0.25 * 25 * Math.sqrt(-distance);
}

const TITLE_PX = 11;
/** A title is drawn only on a node at least this wide on screen (narrower, not a letter would fit). */
const TITLE_MIN_WIDTH = 40;

/**
 * Draws the scene on `pen` (a canvas of `width` × `height` CSS pixels at `ratio` device pixels each), in screen
 * space so every line is crisp: the groups' frames, then the edges, then the nodes (the selected ones last),
 * then the rings of other people's marks.
 */
export function drawOverview(pen: Pen, scene: OverviewScene, viewport: Viewport, size: { width: number; height: number; ratio: number }, colors: OverviewColors): void {
	const { zoom } = viewport;
	const sx = (x: number) => viewport.x + x * zoom;
	const sy = (y: number) => viewport.y + y * zoom;
	pen.setTransform(size.ratio, 0, 0, size.ratio, 0, 0);
	pen.clearRect(0, 0, size.width, size.height);
	pen.font = `600 ${TITLE_PX}px system-ui, sans-serif`;
	pen.textBaseline = 'middle';

	for (const frame of scene.frames) {
		pen.globalAlpha = 0.12;
		pen.fillStyle = frame.fill ?? colors.lineStrong;
		pen.fillRect(sx(frame.x), sy(frame.y), frame.width * zoom, frame.height * zoom);
		pen.globalAlpha = 1;
		pen.lineWidth = frame.selected ? 2 : 1;
		pen.strokeStyle = frame.selected ? colors.accent : frame.bypass ? colors.bypass : (frame.fill ?? colors.lineStrong);
		pen.strokeRect(sx(frame.x) + 0.5, sy(frame.y) + 0.5, frame.width * zoom, frame.height * zoom);
		title(pen, frame.title, sx(frame.x), sy(frame.y), frame.width * zoom, Math.max(TITLE_PX + 4, 28 * zoom), colors.muted);
	}

	pen.lineWidth = 1;
	for (const selected of [false, true]) {
		pen.strokeStyle = selected ? colors.accent : colors.edge;
		pen.beginPath();
		for (const edge of scene.edges) {
			if (edge.selected !== selected) continue;
			const [x1, y1, x2, y2] = [sx(edge.from.x), sy(edge.from.y), sx(edge.to.x), sy(edge.to.y)];
			const offset = controlOffset(x2 - x1);
			pen.moveTo(x1, y1);
			pen.bezierCurveTo(x1 + offset, y1, x2 - offset, y2, x2, y2);
		}
		pen.stroke();
	}

	// The selected nodes are a layer over the others, as Svelte Flow stacks its cards.
	drawNodes(pen, scene.nodes.filter((node) => !node.selected), viewport, colors);
	drawNodes(pen, scene.nodes.filter((node) => node.selected), viewport, colors);

	pen.lineWidth = 2;
	for (const node of scene.nodes) {
		node.rings.forEach((color, i) => {
			const out = 3 + i * 3;
			pen.strokeStyle = color;
			pen.strokeRect(sx(node.x) - out, sy(node.y) - out, node.width * zoom + 2 * out, node.height * zoom + 2 * out);
		});
	}
}

/** `items` by `key` (in their order; the ones whose key is null left out). */
function byKey<T>(items: readonly T[], key: (item: T) => string | null): Map<string, T[]> {
	const groups = new Map<string, T[]>();
	for (const item of items) {
		const k = key(item);
		if (k === null) continue;
		const group = groups.get(k);
		if (group) group.push(item);
		else groups.set(k, [item]);
	}
	return groups;
}

/**
 * Draws nodes pass by pass (panels, colour bars, accents, borders, titles), each fill or stroke style set once
 * for all the nodes that have it: set node by node, ~6 styles for each of 300 nodes at every frame of a pan or
 * zoom were the overview's largest share of script time.
 */
function drawNodes(pen: Pen, nodes: readonly OverviewNode[], viewport: Viewport, colors: OverviewColors): void {
	const { zoom } = viewport;
	const box = (node: OverviewNode) => ({ x: viewport.x + node.x * zoom, y: viewport.y + node.y * zoom, w: node.width * zoom, h: node.height * zoom });
	const boxes = new Map(nodes.map((node) => [node, box(node)]));
	const barOf = (h: number) => Math.min(h, Math.max(2, 26 * zoom));
	pen.fillStyle = colors.panel;
	for (const { x, y, w, h } of boxes.values()) pen.fillRect(x, y, w, h);
	for (const [fill, group] of byKey(nodes, (node) => node.fill)) {
		pen.fillStyle = fill;
		for (const node of group) {
			const { x, y, w, h } = boxes.get(node)!;
			pen.fillRect(x, y, w, barOf(h));
		}
	}
	const accent = Math.max(1.5, 2 * zoom);
	for (const [fill, group] of byKey(nodes, (node) => (node.bypass ? colors.bypass : node.accent))) {
		pen.fillStyle = fill;
		for (const node of group) {
			const { x, y, w } = boxes.get(node)!;
			pen.fillRect(x, y, w, accent);
		}
	}
	const border = (node: OverviewNode) =>
		node.selected ? colors.accent : node.bad ? colors.bad : node.running ? colors.accent : node.bypass ? colors.bypass : colors.lineStrong;
	for (const [stroke, group] of byKey(nodes, border)) {
		pen.strokeStyle = stroke;
		for (const node of group) {
			const { x, y, w, h } = boxes.get(node)!;
			pen.lineWidth = node.selected ? 2 : 1;
			pen.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1);
		}
	}
	for (const [node, { x, y, w, h }] of boxes) if (w >= TITLE_MIN_WIDTH) title(pen, node.title, x, y, w, Math.max(barOf(h), TITLE_PX + 4), colors.text);
}

/** A title on a node or frame's bar, clipped to its width; none where not a letter would fit. */
function title(pen: Pen, text: string, x: number, y: number, width: number, bar: number, color: string): void {
	if (width < TITLE_MIN_WIDTH || !text) return;
	pen.save();
	pen.beginPath();
	pen.rect(x + 4, y, width - 8, bar);
	pen.clip();
	pen.fillStyle = color;
	pen.fillText(text, x + 6, y + Math.min(bar, TITLE_PX + 8) / 2 + 1);
	pen.restore();
}
