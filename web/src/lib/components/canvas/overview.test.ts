import { describe, expect, it } from 'vitest';
import {
	countInView,
	drawOrder,
	drawOverview,
	familyOf,
	nodeAt,
	OVERVIEW_MIN_NODES,
	OVERVIEW_ZOOM,
	OverviewScenes,
	showsOverview,
	type NodeInput,
	type OverviewColors,
	type OverviewEdge,
	type OverviewNode,
	type OverviewScene,
	type Pen
} from './overview';
import type { FlowNode } from './flow';

const node = (id: string, x: number, y: number, extra: Partial<OverviewNode> = {}): OverviewNode => ({
	id,
	x,
	y,
	width: 200,
	height: 100,
	title: id,
	accent: '#46a758',
	fill: null,
	selected: false,
	rings: [],
	bypass: false,
	bad: false,
	running: false,
	...extra
});

const COLORS: OverviewColors = {
	panel: 'panel',
	line: 'line',
	lineStrong: 'line-strong',
	edge: 'edge',
	accent: 'accent',
	bad: 'bad',
	bypass: 'bypass',
	text: 'text',
	muted: 'muted'
};

/** A 2D context that writes down what is drawn: each filled or stroked box with its colour, each title. */
function recorder() {
	const drawn: string[] = [];
	const pen = {
		fillStyle: '',
		strokeStyle: '',
		lineWidth: 1,
		font: '',
		textBaseline: 'alphabetic',
		globalAlpha: 1,
		setTransform: () => {},
		clearRect: () => drawn.push('clear'),
		beginPath: () => {},
		moveTo: () => {},
		bezierCurveTo: (...args: number[]) => drawn.push(`curve to ${args[4]},${args[5]}`),
		rect: () => {},
		fill: () => {},
		stroke: () => {},
		fillRect: (x: number, y: number, w: number, h: number) => drawn.push(`fill ${pen.fillStyle} ${x},${y} ${w}x${h}`),
		strokeRect: () => drawn.push(`stroke ${pen.strokeStyle}`),
		fillText: (text: string) => drawn.push(`text ${text}`),
		save: () => {},
		restore: () => {},
		clip: () => {}
	};
	return { pen: pen as unknown as Pen, drawn };
}

describe('when the overview is shown', () => {
	it('is zoomed out below the threshold with enough nodes in view', () => {
		expect(showsOverview(OVERVIEW_ZOOM - 0.01, OVERVIEW_MIN_NODES)).toBe(true);
		expect(showsOverview(OVERVIEW_ZOOM, 300)).toBe(false);
		expect(showsOverview(0.1, OVERVIEW_MIN_NODES - 1)).toBe(false);
	});

	it('counts the nodes that lie in view, partly or whole', () => {
		const boxes = [node('a', 0, 0), node('b', 950, 0), node('c', 2000, 0), node('d', -300, 0)];
		// A view of 500 × 300 screen pixels at zoom 0.5 from graph (0, 0): 1000 × 600 graph units.
		expect(countInView(boxes, { x: 0, y: 0, zoom: 0.5 }, 500, 300)).toBe(2);
	});
});

describe('nodeAt (the overview hit test)', () => {
	const scene = { nodes: [node('a', 0, 0), node('b', 150, 50), node('c', 1000, 1000)] };
	const view = { x: 10, y: 20, zoom: 0.1 };

	it('finds the node under a screen point through the pan and zoom', () => {
		// Graph (1050, 1050) is screen (10 + 105, 20 + 105).
		expect(nodeAt(scene, { x: 115, y: 125 }, view)?.id).toBe('c');
		expect(nodeAt(scene, { x: 10 + 60, y: 20 + 60 }, view)).toBeNull();
	});

	it('answers the topmost of overlapping nodes: the later one, and a selected one over any', () => {
		const overlap = { x: 10 + 17, y: 20 + 7 }; // graph (170, 70): in a and in b
		expect(nodeAt(scene, overlap, view)?.id).toBe('b');
		const selected = { nodes: [node('a', 0, 0, { selected: true }), node('b', 150, 50)] };
		expect(nodeAt(selected, overlap, view)?.id).toBe('a');
	});

	it('counts a few screen pixels around a node as on it (slop), no more', () => {
		const right = 10 + 20; // node a's right edge on screen
		expect(nodeAt({ nodes: [node('a', 0, 0)] }, { x: right + 2, y: 25 }, view)?.id).toBe('a');
		expect(nodeAt({ nodes: [node('a', 0, 0)] }, { x: right + 3, y: 25 }, view)).toBeNull();
		expect(nodeAt({ nodes: [node('a', 0, 0)] }, { x: right + 7, y: 25 }, view, 8)?.id).toBe('a');
	});
});

describe('drawOverview', () => {
	it('draws the selected nodes after the others, as Svelte Flow stacks its cards', () => {
		expect(drawOrder([node('a', 0, 0, { selected: true }), node('b', 0, 0), node('c', 0, 0)]).map((n) => n.id)).toEqual(['b', 'c', 'a']);
	});

	it('draws frames, then edges, then nodes, then other people’s rings, in screen space', () => {
		const scene: OverviewScene = {
			frames: [{ id: 'group:g', x: -50, y: -50, width: 600, height: 400, title: 'Group', fill: null, selected: false, bypass: false }],
			edges: [{ id: 'a->b', from: { x: 200, y: 50 }, to: { x: 300, y: 100 }, selected: false }],
			nodes: [node('a', 0, 0, { rings: ['#f00'] }), node('b', 300, 0, { title: 'Seed' })]
		};
		const { pen, drawn } = recorder();
		drawOverview(pen, scene, { x: 0, y: 0, zoom: 0.5 }, { width: 400, height: 300, ratio: 2 }, COLORS);
		const first = (prefix: string) => drawn.findIndex((line) => line.startsWith(prefix));
		expect(drawn[0]).toBe('clear');
		expect(first('text Group')).toBeLessThan(first('curve'));
		expect(drawn).toContain('curve to 150,50'); // graph (300, 100) at zoom 0.5
		expect(first('curve')).toBeLessThan(first('fill panel 0,0 100x50'));
		expect(drawn).toContain('fill panel 150,0 100x50');
		expect(drawn).toContain('text Seed');
		expect(drawn.lastIndexOf('stroke #f00')).toBe(drawn.length - 1);
	});

	it('marks a selected node with the accent and leaves out titles that would not fit', () => {
		const { pen, drawn } = recorder();
		const scene = { frames: [], edges: [], nodes: [node('wide', 0, 0, { selected: true }), node('narrow', 0, 200, { width: 100 })] };
		drawOverview(pen, scene, { x: 0, y: 0, zoom: 0.3 }, { width: 400, height: 300, ratio: 1 }, COLORS);
		expect(drawn).toContain('stroke accent');
		expect(drawn).toContain('text wide'); // 60 px wide on screen
		expect(drawn).not.toContain('text narrow'); // 30 px
	});
});

describe('familyOf', () => {
	it('follows the type’s category, or its name when the type is not known', () => {
		expect(familyOf({ category: 'Generate', type: 'text_to_image' })).toBe('generate');
		expect(familyOf({ category: '', type: 'my_prompt' })).toBe('text');
		expect(familyOf({ category: '', type: 'shot' })).toBe('output');
		expect(familyOf({ category: '', type: 'thing' })).toBe('other');
	});
});

describe('OverviewScenes (the scene kept node by node)', () => {
	const flowNode = (id: string, x: number, data: Partial<FlowNode['data']> = {}): FlowNode => ({
		id,
		type: 'graph',
		position: { x, y: 0 },
		measured: { width: 200, height: 100 },
		data: { title: id, type: 'seed', typeTitle: 'Seed', category: 'Values', typed: true, outputNode: false, inputs: [], outputs: [], summary: '', bypass: false, color: null, collapsed: false, ...data }
	});
	const input = (node: FlowNode, extra: Partial<NodeInput> = {}): NodeInput => ({ node, marks: undefined, bad: false, running: false, ...extra });
	const edge = (id: string, x: number): OverviewEdge => ({ id, from: { x, y: 50 }, to: { x: x + 100, y: 50 }, selected: false });

	it('gives back the very same scene for an edit that changes nothing drawn (a seed’s value), so it is not drawn again', () => {
		const scenes = new OverviewScenes();
		const [a, b] = [flowNode('a', 0), flowNode('b', 300)];
		const first = scenes.scene([], [input(a), input(b)], [edge('a->b', 200)]);
		const edited = { ...a, data: { ...a.data, summary: 'value 1001' } };
		expect(scenes.scene([], [input(edited), input(b)], [edge('a->b', 200)])).toBe(first);
	});

	it('works out again only the node that changed: the others keep their entries', () => {
		const scenes = new OverviewScenes();
		const [a, b] = [flowNode('a', 0), flowNode('b', 300)];
		const first = scenes.scene([], [input(a), input(b)], [edge('a->b', 200)]);
		const renamed = { ...a, data: { ...a.data, title: 'Seed of the sky' } };
		const second = scenes.scene([], [input(renamed), input(b)], [edge('a->b', 200)]);
		expect(second).not.toBe(first);
		expect(second.nodes[0]!.title).toBe('Seed of the sky');
		expect(second.nodes[1]).toBe(first.nodes[1]);
		expect(second.edges[0]).toBe(first.edges[0]);
		const moved = { ...b, position: { x: 400, y: 0 } };
		const third = scenes.scene([], [input(renamed), input(moved)], [edge('a->b', 300)]);
		expect(third.nodes[0]).toBe(second.nodes[0]);
		expect(third.nodes[1]!.x).toBe(400);
		expect(third.edges[0]!.from.x).toBe(300);
	});

	it('rings a node in the colours of the people who select it, and shows its run state', () => {
		const scenes = new OverviewScenes();
		const a = flowNode('a', 0);
		const marks = { selectedBy: [{ id: 'ada', name: 'Ada', color: '#f00' }], draggedBy: [] };
		const scene = scenes.scene([], [input(a, { marks, running: true })], []);
		expect(scene.nodes[0]!.rings).toEqual(['#f00']);
		expect(scene.nodes[0]!.running).toBe(true);
		expect(scenes.scene([], [input(a)], []).nodes[0]!.rings).toEqual([]);
	});
});
