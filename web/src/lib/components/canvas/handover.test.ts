import { describe, expect, it } from 'vitest';
import type { Edge } from '@xyflow/svelte';
import type { Graph, GraphNode } from '$lib/api/scenes';
import { edgeKey } from '$lib/collab/model';
import { reconcile, type FlowNode } from './flow';
import { Handover, type FlowGraph } from './handover.svelte';

const seed = (value: number, x = 0): GraphNode => ({ type: 'seed', title: '', params: { value }, bypass: false, position: { x, y: 0 } });

/** The benchmark's shape, smaller: a few seeds feeding a picture each; two people edit the seeds' values. */
function scene(values: number[], moved: Record<string, number> = {}): Graph {
	const nodes: Record<string, GraphNode> = {};
	const edges: Graph['edges'] = {};
	values.forEach((value, i) => {
		nodes[`s${i}`] = seed(value, moved[`s${i}`] ?? i * 300);
		nodes[`i${i}`] = { type: 'text_to_image', title: '', params: {}, bypass: false, position: { x: i * 300, y: 200 } };
		const edge = { source: `s${i}`, source_handle: 'seed', target: `i${i}`, target_handle: 'seed' };
		edges[edgeKey(edge)] = edge;
	});
	return { nodes, edges };
}

/** A canvas in miniature: what Svelte Flow was handed, each time, and the graph's changes worked out as SceneCanvas does. */
function canvas() {
	const handed: FlowGraph<FlowNode, Edge>[] = [];
	let flow: FlowGraph<FlowNode, Edge> = { nodes: [], edges: [], positions: new Map() };
	const handover = new Handover<FlowNode, Edge>((next) => {
		handed.push(next);
		flow = next;
	});
	const edit = (graph: Graph) => {
		const base = handover.base(flow);
		const next = reconcile(base, graph, false);
		handover.offer({ nodes: next.nodes, edges: next.edges, positions: next.positions });
	};
	return { handover, handed, edit, flow: () => flow };
}

describe('Handover (the graph on its way to Svelte Flow)', () => {
	it('hands every change over at once while the cards are shown', () => {
		const { handed, edit } = canvas();
		edit(scene([1, 2]));
		edit(scene([5, 2]));
		expect(handed).toHaveLength(2);
		expect(handed[1]!.nodes.find((node) => node.id === 's0')!.data.summary).toContain('5');
	});

	it('a remote edit while the overview is on hands Svelte Flow nothing; zooming in hands it the latest once', () => {
		const { handover, handed, edit, flow } = canvas();
		edit(scene([1, 2, 3]));
		const shown = flow();
		handover.holding = true; // zoomed out to the overview
		for (let step = 0; step < 20; step++) edit(scene([100 + step, 200 + step, 3], { s1: 900 + step }));
		expect(handed).toHaveLength(1);
		// The overview draws the latest meanwhile.
		expect(handover.held!.nodes.find((node) => node.id === 's1')!.position).toEqual({ x: 919, y: 0 });
		expect(flow()).toBe(shown);
		handover.holding = false; // zoomed in: the cards come back
		expect(handed).toHaveLength(2);
		const latest = handed[1]!;
		expect(latest.nodes.find((node) => node.id === 's0')!.data.summary).toContain('119');
		expect(latest.positions.get('s1')).toEqual({ x: 919, y: 0 });
		expect(handover.held).toBeNull();
		handover.holding = false;
		expect(handed).toHaveLength(2); // once
	});

	it('what it hands over keeps the very nodes and edges that no edit touched (Svelte Flow redoes none of them)', () => {
		const { handover, handed, edit, flow } = canvas();
		edit(scene([1, 2, 3]));
		const before = flow();
		handover.holding = true;
		edit(scene([7, 2, 3]));
		edit(scene([8, 2, 3]));
		handover.holding = false;
		const after = handed.at(-1)!;
		expect(after.edges).toBe(before.edges);
		const changed = after.nodes.filter((node, i) => node !== before.nodes[i]).map((node) => node.id);
		expect(changed).toEqual(['s0']);
	});

	it("a change of the canvas's own (a selection, a move) first takes the held change, so it changes the latest", () => {
		const { handover, handed, edit } = canvas();
		edit(scene([1]));
		handover.holding = true;
		edit(scene([2]));
		handover.release();
		expect(handed).toHaveLength(2);
		expect(handover.held).toBeNull();
		expect(handover.holding).toBe(true); // later edits are held again
		edit(scene([3]));
		expect(handed).toHaveLength(2);
		handover.release();
		handover.release();
		expect(handed).toHaveLength(3);
	});

	it("Svelte Flow's own change of its nodes drops the held change, to be worked out again from Svelte Flow's", () => {
		const { handover, handed, edit } = canvas();
		edit(scene([1]));
		handover.holding = true;
		expect(handover.forget()).toBe(false);
		edit(scene([2]));
		expect(handover.forget()).toBe(true);
		expect(handover.held).toBeNull();
		handover.holding = false;
		expect(handed).toHaveLength(1);
	});
});
