import { describe, expect, it } from 'vitest';
import type { NodeType, Port } from '$lib/api/engine';
import type { Graph, GraphEdge, GraphNode } from '$lib/api/scenes';
import { GENERIC_TYPE } from '$lib/collab/sceneDoc.svelte';
import { edgeKey } from '$lib/collab/model';
import { ANY } from '$lib/engine/ports';
import { connectionRefusal, fitOptions, GENERIC_PORTS, movedNodes, reconcile, READABLE_TITLE_PX, summarize, TITLE_PX, type FlowNode, type PortView } from './flow';

const port = (name: string, type: string, extra: Partial<Port> = {}): Port => ({ name, type, required: true, description: '', ...extra });

function nodeType(id: string, title: string, extra: Partial<NodeType> = {}): NodeType {
	return { id, title, category: 'generate', description: '', version: 1, output_node: false, inputs: [], outputs: [], params_schema: {}, ...extra };
}

const TEXT_TO_IMAGE = nodeType('text_to_image', 'Text to image', {
	inputs: [
		port('model', 'model', { description: 'The model' }),
		port('prompt', 'text', { fallback_param: 'prompt_text' }),
		port('seed', 'seed', { required: false })
	],
	outputs: [port('image', 'image', { description: 'The picture' })],
	params_schema: {
		properties: {
			prompt_text: { default: '', type: 'string', 'x-widget': 'prompt' },
			steps: { default: 20, type: 'integer', minimum: 1, maximum: 150 },
			width: { default: 512, type: 'integer', multipleOf: 8 },
			height: { default: 512, type: 'integer', multipleOf: 8 }
		}
	}
});
const PROMPT = nodeType('prompt', 'Prompt', {
	category: 'text',
	outputs: [port('text', 'text')],
	params_schema: { properties: { text: { default: '', type: 'string' } } }
});
const SAVE = nodeType('save', 'Save', { category: 'output', output_node: true, inputs: [port('images', 'images')] });
const SEED = nodeType('seed', 'Seed', { outputs: [port('seed', 'seed')] });
const INT = nodeType('int', 'Number', { outputs: [port('value', 'int')] });
const TYPES = new Map([TEXT_TO_IMAGE, PROMPT, SAVE, SEED, INT].map((t) => [t.id, t]));
const typeOf = (type: string) => TYPES.get(type);

const at = (x: number, y: number) => ({ x, y });
const e = (source: string, source_handle: string, target: string, target_handle: string): GraphEdge => ({ source, source_handle, target, target_handle });

/** A node as the server answers one: no title (the canvas then shows the type's), no parameters, not bypassed, unless given. */
const node = (fields: Pick<GraphNode, 'type' | 'position'> & Partial<GraphNode>): GraphNode => ({ title: '', params: {}, bypass: false, ...fields });

function graph(nodes: Record<string, GraphNode>, edges: GraphEdge[] = []): Graph {
	return { nodes, edges: Object.fromEntries(edges.map((edge) => [edgeKey(edge), edge])) };
}

const empty = { nodes: [] as FlowNode[], edges: [] };
const names = (ports: PortView[]) => ports.map((p) => p.name);
const byId = (nodes: FlowNode[], id: string) => {
	const found = nodes.find((n) => n.id === id);
	if (!found) throw new Error(`no node ${id}`);
	return found;
};

const SCENE = graph(
	{
		p: node({ type: 'prompt', title: 'Sky', position: at(0, 0), params: { text: 'a red sky' } }),
		t: node({ type: 'text_to_image', position: at(300, 20), params: { steps: 30 } }),
		s: node({ type: 'save', position: at(600, 20) })
	},
	[e('p', 'text', 't', 'prompt'), e('t', 'image', 's', 'images')]
);

describe('reconcile: nodes of known types', () => {
	it('take their ports from the type, marked connected where an edge is', () => {
		const { nodes } = reconcile(empty, SCENE, false, typeOf);
		const t = byId(nodes, 't').data;
		expect(names(t.inputs)).toEqual(['model', 'prompt', 'seed']);
		expect(t.inputs.map((p) => p.connected)).toEqual([false, true, false]);
		expect(t.inputs.map((p) => p.required)).toEqual([true, true, false]);
		expect(t.inputs[0]).toMatchObject({ type: 'model', description: 'The model', fallback: null, fallbackFilled: false });
		expect(t.outputs).toEqual([
			{ name: 'image', type: 'image', required: false, description: 'The picture', connected: true, fallback: null, fallbackFilled: false }
		]);
		expect(byId(nodes, 'p').data.outputs.map((p) => [p.name, p.connected])).toEqual([['text', true]]);
	});

	it('carry the type title, category and output flag; the node title wins over the type title', () => {
		const { nodes } = reconcile(empty, SCENE, false, typeOf);
		expect(byId(nodes, 'p').data).toMatchObject({ title: 'Sky', type: 'prompt', typeTitle: 'Prompt', category: 'text', typed: true, outputNode: false });
		expect(byId(nodes, 't').data).toMatchObject({ title: 'Text to image', typeTitle: 'Text to image', category: 'generate', typed: true });
		expect(byId(nodes, 's').data).toMatchObject({ title: 'Save', outputNode: true, category: 'output' });
	});

	it('a node given no title (the server then stores its type id as one) shows its type title, never an id', () => {
		const untitled = graph({ t: node({ type: 'text_to_image', title: 'text_to_image', position: at(0, 0) }) });
		expect(byId(reconcile(empty, untitled, false, typeOf).nodes, 't').data).toMatchObject({ title: 'Text to image', typeTitle: 'Text to image' });
		// Before the types are known: a readable form of the id, not the id.
		expect(byId(reconcile(empty, untitled, false, () => undefined).nodes, 't').data.title).toBe('Text to image');
	});

	it('an input whose fallback parameter is filled may stay unconnected', () => {
		const withPrompt = (prompt_text: unknown) =>
			byId(reconcile(empty, graph({ t: node({ type: 'text_to_image', position: at(0, 0), params: { prompt_text } }) }), false, typeOf).nodes, 't').data
				.inputs[1];
		expect(withPrompt('a cat')).toMatchObject({ name: 'prompt', fallback: 'prompt_text', fallbackFilled: true, connected: false });
		expect(withPrompt(0)).toMatchObject({ fallbackFilled: true });
		for (const unfilled of ['', null, undefined, []]) expect(withPrompt(unfilled)?.fallbackFilled).toBe(false);
	});

	it('a port a type leaves unsaid is required', () => {
		const loose = nodeType('loose', 'Loose', { inputs: [{ name: 'in', type: 'image' } as Port] });
		const { nodes } = reconcile(empty, graph({ l: node({ type: 'loose', position: at(0, 0) }) }), false, () => loose);
		expect(byId(nodes, 'l').data.inputs[0]).toMatchObject({ required: true, description: '' });
	});

	it('an edge into a port the type does not have still shows, untyped, after the type ports', () => {
		const g = graph({ p: node({ type: 'prompt', position: at(0, 0) }), t: node({ type: 'text_to_image', position: at(0, 0) }) }, [
			e('p', 'text', 't', 'zeta'),
			e('p', 'old', 't', 'alpha')
		]);
		const { nodes } = reconcile(empty, g, false, typeOf);
		const t = byId(nodes, 't').data;
		expect(names(t.inputs)).toEqual(['model', 'prompt', 'seed', 'alpha', 'zeta']);
		expect(t.inputs.slice(3).map((p) => [p.type, p.connected, p.required])).toEqual([
			[ANY, true, false],
			[ANY, true, false]
		]);
		expect(names(byId(nodes, 'p').data.outputs)).toEqual(['text', 'old']);
	});

	it('summarize with the type defaults under the stored parameters', () => {
		const { nodes } = reconcile(empty, SCENE, false, typeOf);
		expect(byId(nodes, 't').data.summary).toBe('512×512 · 30 steps');
		expect(byId(nodes, 'p').data.summary).toBe('a red sky');
	});
});

describe('reconcile: generic notes and unknown types', () => {
	it('a generic note has one untyped input and output, whatever the server says of its type', () => {
		const g = graph({ n: node({ type: GENERIC_TYPE, title: 'Idea', position: at(0, 0) }) });
		const note = nodeType(GENERIC_TYPE, 'Generic', { inputs: [port('x', 'image')], outputs: [port('y', 'image')] });
		for (const lookup of [() => undefined, () => note]) {
			const data = byId(reconcile(empty, g, false, lookup).nodes, 'n').data;
			expect(names(data.inputs)).toEqual([...GENERIC_PORTS.inputs]);
			expect(names(data.outputs)).toEqual([...GENERIC_PORTS.outputs]);
			expect([...data.inputs, ...data.outputs].every((p) => p.type === ANY && !p.required)).toBe(true);
			expect(data).toMatchObject({ title: 'Idea', typeTitle: GENERIC_TYPE, typed: false });
		}
	});

	it('a note without a title is called by its type', () => {
		const data = byId(reconcile(empty, graph({ n: node({ type: GENERIC_TYPE, title: '', position: at(0, 0) }) }), false).nodes, 'n').data;
		expect(data.title).toBe('Generic');
	});

	it('a node of an unknown type shows only the ports its edges use, sorted, and its type in words', () => {
		const g = graph({ a: node({ type: 'old_blur-v2', position: at(0, 0) }), b: node({ type: GENERIC_TYPE, position: at(0, 0) }) }, [
			e('b', 'out', 'a', 'source'),
			e('b', 'out', 'a', 'mask'),
			e('a', 'result', 'b', 'in')
		]);
		const data = byId(reconcile(empty, g, false, typeOf).nodes, 'a').data;
		expect(data).toMatchObject({ title: 'Old blur v2', type: 'old_blur-v2', typeTitle: 'old_blur-v2', category: '', typed: false, outputNode: false, summary: '' });
		expect(names(data.inputs)).toEqual(['mask', 'source']);
		expect(names(data.outputs)).toEqual(['result']);
		expect(names(byId(reconcile(empty, graph({ a: node({ type: 'lonely', position: at(0, 0) }) }), false).nodes, 'a').data.inputs)).toEqual([]);
	});
});

describe('reconcile: positions, edges and what Svelte Flow owns', () => {
	it('places nodes where the graph has them (a missing position is the origin)', () => {
		// b deliberately has no position (nor title, params, bypass): partial data from an older client.
		const g = graph({ a: node({ type: 'prompt', position: at(12, -4) }), b: { type: 'prompt' } as unknown as GraphNode });
		const { nodes, positions } = reconcile(empty, g, false, typeOf);
		expect(byId(nodes, 'a').position).toEqual(at(12, -4));
		expect(byId(nodes, 'b').position).toEqual(at(0, 0));
		expect(positions).toEqual(new Map([['a', at(12, -4)], ['b', at(0, 0)]]));
		expect(nodes.every((n) => n.type === 'graph' && n.draggable === true)).toBe(true);
	});

	it('turns edges into Svelte Flow edges keyed as the graph keys them', () => {
		const { edges } = reconcile(empty, SCENE, false, typeOf);
		expect(edges).toEqual([
			{ id: 'p:text->t:prompt', source: 'p', target: 't', sourceHandle: 'text', targetHandle: 'prompt' },
			{ id: 't:image->s:images', source: 't', target: 's', sourceHandle: 'image', targetHandle: 'images' }
		]);
	});

	it('draws a link with a reroute point through it, and redraws it only when the point moves', () => {
		const routed = structuredClone(SCENE);
		routed.edges['p:text->t:prompt']!.via = at(150, 40);
		const first = reconcile(empty, routed, false, typeOf);
		expect(first.edges[0]).toMatchObject({ id: 'p:text->t:prompt', type: 'reroute', data: { via: at(150, 40) } });
		const same = reconcile(first, structuredClone(routed), false, typeOf);
		expect(same.edges).toBe(first.edges);
		routed.edges['p:text->t:prompt']!.via = at(160, 40);
		const moved = reconcile({ ...first, edges: first.edges.map((e, i) => (i ? e : { ...e, selected: true })) }, routed, false, typeOf);
		expect(moved.edges[0]).toMatchObject({ data: { via: at(160, 40) }, selected: true });
		expect(moved.edges[1]).toBe(first.edges[1]);
		const plain = reconcile(moved, SCENE, false, typeOf).edges[0]!;
		expect(plain.type).toBeUndefined();
		expect(plain.data).toBeUndefined();
	});

	it('read-only nodes cannot be dragged', () => {
		const { nodes } = reconcile(empty, SCENE, true, typeOf);
		expect(nodes.every((n) => n.draggable === false)).toBe(true);
	});

	it('the same graph again gives back the very same node and edge objects', () => {
		const first = reconcile(empty, SCENE, false, typeOf);
		const second = reconcile(first, structuredClone(SCENE), false, typeOf);
		expect(second.nodes.every((n, i) => n === first.nodes[i])).toBe(true);
		expect(second.edges.every((edge, i) => edge === first.edges[i])).toBe(true);
	});

	it('a changed node is a new object that keeps what Svelte Flow set on it; the others stay the same', () => {
		const first = reconcile(empty, SCENE, false, typeOf);
		const shown = first.nodes.map((n) => (n.id === 't' ? { ...n, selected: true, measured: { width: 180, height: 90 } } : n));
		const changed = structuredClone(SCENE);
		changed.nodes['t']!.params = { steps: 40 };
		const second = reconcile({ nodes: shown, edges: first.edges }, changed, false, typeOf);
		const t = byId(second.nodes, 't');
		expect(t).not.toBe(byId(shown, 't'));
		expect(t).toMatchObject({ selected: true, measured: { width: 180, height: 90 } });
		expect(t.data.summary).toBe('512×512 · 40 steps');
		expect(byId(second.nodes, 'p')).toBe(byId(first.nodes, 'p'));
	});

	it('the same graph again gives back the very same arrays, so Svelte Flow has nothing to redo', () => {
		const first = reconcile(empty, SCENE, false, typeOf);
		const second = reconcile(first, structuredClone(SCENE), false, typeOf);
		expect(second.nodes).toBe(first.nodes);
		expect(second.edges).toBe(first.edges);
	});

	it("someone's parameter edit changes that node alone: the edges stay the very same array", () => {
		// Svelte Flow rebuilds its connection lookup and relays every edge whenever the edges array is another one.
		const first = reconcile(empty, SCENE, false, typeOf);
		const changed = structuredClone(SCENE);
		changed.nodes['t']!.params = { steps: 40 };
		const second = reconcile(first, changed, false, typeOf);
		expect(second.edges).toBe(first.edges);
		expect(second.nodes).not.toBe(first.nodes);
		expect(byId(second.nodes, 't').data.summary).toBe('512×512 · 40 steps');
	});

	it("a node snapshot the scene document kept is not worked out again: its data is the very same object", () => {
		// The scene document hands out a new snapshot only for a node that changed; ports and summaries of the
		// 300 others are not worked out again for each remote edit.
		const first = reconcile(empty, SCENE, false, typeOf);
		const again = reconcile(empty, SCENE, false, typeOf);
		expect(again.nodes.every((n, i) => n.data === first.nodes[i]!.data)).toBe(true);
		const changed = { ...SCENE, nodes: { ...SCENE.nodes, t: { ...SCENE.nodes['t']!, params: { steps: 40 } } } };
		const second = reconcile(first, changed, false, typeOf);
		expect(byId(second.nodes, 't').data.summary).toBe('512×512 · 40 steps');
		expect(byId(second.nodes, 'p')).toBe(byId(first.nodes, 'p'));
	});

	it('a kept node snapshot still shows a new edge to it, and a type that became known', () => {
		const lone = graph({ s: node({ type: 'seed', position: at(0, 0) }), t: node({ type: 'text_to_image', position: at(300, 0) }) });
		const first = reconcile(empty, lone, false, typeOf);
		expect(byId(first.nodes, 's').data.outputs[0]!.connected).toBe(false);
		const linked = { nodes: lone.nodes, edges: graph({}, [e('s', 'seed', 't', 'seed')]).edges };
		const second = reconcile(first, linked, false, typeOf);
		expect(byId(second.nodes, 's').data.outputs[0]!.connected).toBe(true);
		const untyped = reconcile(empty, lone, false, () => undefined);
		expect(byId(untyped.nodes, 't').data.typed).toBe(false);
		expect(byId(reconcile(untyped, lone, false, typeOf).nodes, 't').data.typed).toBe(true);
	});

	it('the node order follows the graph, and a reordered graph is a new array', () => {
		const first = reconcile(empty, SCENE, false, typeOf);
		const reversed = graph(Object.fromEntries(Object.entries(SCENE.nodes).reverse()), Object.values(SCENE.edges));
		const second = reconcile(first, reversed, false, typeOf);
		expect(second.nodes).not.toBe(first.nodes);
		expect(second.nodes.map((n) => n.id)).toEqual(Object.keys(SCENE.nodes).reverse());
		expect(second.edges).toBe(first.edges);
	});

	it('a node someone else moved moves, unless this user is dragging it', () => {
		const first = reconcile(empty, SCENE, false, typeOf);
		const moved = structuredClone(SCENE);
		moved.nodes['p']!.position = at(50, 60);
		moved.nodes['t']!.position = at(350, 80);
		const dragging = first.nodes.map((n) => (n.id === 't' ? { ...n, dragging: true, position: at(999, 999) } : n));
		const second = reconcile({ nodes: dragging, edges: first.edges }, moved, false, typeOf);
		expect(byId(second.nodes, 'p').position).toEqual(at(50, 60));
		expect(byId(second.nodes, 't').position).toEqual(at(999, 999)); // the drag wins
		expect(second.positions.get('t')).toEqual(at(350, 80)); // while the graph's position is remembered
	});

	it('switching to read-only remakes the nodes', () => {
		const first = reconcile(empty, SCENE, false, typeOf);
		const second = reconcile(first, SCENE, true, typeOf);
		expect(second.nodes.every((n, i) => n !== first.nodes[i] && n.draggable === false)).toBe(true);
	});

	it('removed nodes and edges go; bypass shows', () => {
		const first = reconcile(empty, SCENE, false, typeOf);
		const smaller = graph({ p: SCENE.nodes['p']!, t: { ...SCENE.nodes['t']!, bypass: true } }, [e('p', 'text', 't', 'prompt')]);
		const second = reconcile(first, smaller, false, typeOf);
		expect(second.nodes.map((n) => n.id)).toEqual(['p', 't']);
		expect(second.edges.map((edge) => edge.id)).toEqual(['p:text->t:prompt']);
		expect(byId(second.nodes, 't').data.bypass).toBe(true);
		expect(byId(second.nodes, 't').data.outputs[0]?.connected).toBe(false);
	});
});

describe('summarize', () => {
	it('prompts show their text', () => {
		expect(summarize('prompt', { text: 'a cat' }, undefined)).toBe('a cat');
		expect(summarize('negative_prompt', { text: 'blur' }, undefined)).toBe('blur');
		expect(summarize('prompt', {}, undefined)).toBe('');
		expect(summarize('prompt', { text: 42 }, undefined)).toBe('42');
	});

	it('generators show size and steps, and strength when they have one', () => {
		expect(summarize('text_to_image', { width: 64, height: 64, steps: 2 }, undefined)).toBe('64×64 · 2 steps');
		expect(summarize('image_to_image', { width: 512, height: 768, steps: 20, strength: 0.6 }, undefined)).toBe('512×768 · 20 steps · strength 0.6');
		expect(summarize('text_to_image', {}, TEXT_TO_IMAGE)).toBe('512×512 · 20 steps');
		expect(summarize('text_to_image', { width: 1024 }, TEXT_TO_IMAGE)).toBe('1024×512 · 20 steps');
	});

	it('seeds, models, upscalers and encoders say what they are set to', () => {
		expect(summarize('seed', { value: 42, mode: 'fixed' }, undefined)).toBe('42 · fixed');
		expect(summarize('model_loader', { model: 'sd15' }, undefined)).toBe('sd15');
		expect(summarize('model_loader', { model: '' }, undefined)).toBe('Default model');
		expect(summarize('upscale', { factor: 2, method: 'lanczos' }, undefined)).toBe('×2 · lanczos');
		expect(summarize('upscale_model', { steps: 20, noise_level: 20, factor: 0 }, undefined)).toBe('20 steps · noise 20');
		expect(summarize('upscale_model', { steps: 20, noise_level: 5, factor: 4 }, undefined)).toBe('20 steps · noise 5 · then ×4');
		expect(summarize('controlnet', { controlnet: 'canny-sd15', strength: 1, start: 0, end: 1 }, undefined)).toBe('canny-sd15 · strength 1');
		expect(summarize('controlnet', { controlnet: '', strength: 0.5, start: 0.2, end: 0.8 }, undefined)).toBe('No ControlNet picked · strength 0.5 · steps 0.2–0.8');
		expect(summarize('control_image', { preprocessor: 'canny', low_threshold: 100, high_threshold: 200 }, undefined)).toBe('canny 100/200');
		expect(summarize('control_image', { preprocessor: 'depth' }, undefined)).toBe('depth');
		expect(summarize('image_sequence_to_video', { fps: 24, codec: 'h264' }, undefined)).toBe('24 fps · h264');
		expect(summarize('shot', { name: 'Opening' }, undefined)).toBe('Opening');
	});

	it('load_image counts its pictures', () => {
		expect(summarize('load_image', { asset_id: '', asset_ids: [] }, undefined)).toBe('No picture picked');
		expect(summarize('load_image', { asset_id: 'a1' }, undefined)).toBe('1 picture');
		expect(summarize('load_image', { asset_ids: ['a1'] }, undefined)).toBe('1 picture');
		expect(summarize('load_image', { asset_id: 'a0', asset_ids: ['a1', 'a2', 'a3'] }, undefined)).toBe('3 pictures');
	});

	it('load_video says how much of the clip it takes', () => {
		expect(summarize('load_video', { asset_id: '' }, undefined)).toBe('No clip picked');
		expect(summarize('load_video', { asset_id: 'v', max_frames: 48, every: 1, start: 0 }, undefined)).toBe('up to 48 frames');
		expect(summarize('load_video', { asset_id: 'v', max_frames: 48, every: 2, start: 1.5 }, undefined)).toBe('up to 48 frames · every 2nd frame · from 1.5 s');
		const every = (n: number) => summarize('load_video', { asset_id: 'v', max_frames: 1, every: n }, undefined).split(' · ')[1];
		expect([3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112].map(every)).toEqual([
			'every 3rd frame',
			'every 4th frame',
			'every 11th frame',
			'every 12th frame',
			'every 13th frame',
			'every 21st frame',
			'every 22nd frame',
			'every 23rd frame',
			'every 101st frame',
			'every 111th frame',
			'every 112th frame'
		]);
	});

	it('other types have nothing to say', () => {
		expect(summarize('save', { anything: 1 }, undefined)).toBe('');
		expect(summarize(GENERIC_TYPE, { text: 'note' }, undefined)).toBe('');
	});
});

describe('movedNodes', () => {
	const { nodes, positions } = reconcile(empty, SCENE, false, typeOf);
	const shifted = (id: string, x: number, y: number) => nodes.map((n) => (n.id === id ? { ...n, position: at(x, y) } : n));

	it('is nothing when nothing moved', () => {
		expect(movedNodes(nodes, positions)).toEqual({});
	});

	it('is each moved node, rounded as the graph stores positions', () => {
		expect(movedNodes(shifted('t', 310.4, 19.6), positions)).toEqual({ t: at(310, 20) });
		expect(movedNodes(shifted('t', 300.4, 19.6), positions)).toEqual({}); // rounds back to where it was
	});

	it('only the nodes asked about, and only nodes the graph knows', () => {
		const moved = shifted('t', 1, 1).map((n) => (n.id === 'p' ? { ...n, position: at(5, 5) } : n));
		expect(movedNodes(moved, positions, new Set(['p']))).toEqual({ p: at(5, 5) });
		const stranger = { ...byId(nodes, 'p'), id: 'new', position: at(7, 7) };
		expect(movedNodes([...nodes, stranger], positions)).toEqual({});
	});
});

describe('connectionRefusal', () => {
	const g = graph({
		p: node({ type: 'prompt', position: at(0, 0) }),
		t: node({ type: 'text_to_image', position: at(0, 0) }),
		s: node({ type: 'save', position: at(0, 0) }),
		seed: node({ type: 'seed', position: at(0, 0) }),
		int: node({ type: 'int', position: at(0, 0) }),
		note: node({ type: GENERIC_TYPE, position: at(0, 0) })
	});
	const nodes = new Map(reconcile(empty, g, false, typeOf).nodes.map((n) => [n.id, n]));
	const refusal = (from: string, out: string, to: string, input: string) => connectionRefusal(nodes, { node: from, handle: out }, { node: to, handle: input });

	it('a node cannot feed itself', () => {
		expect(refusal('t', 'image', 't', 'prompt')).toBe('A node cannot feed itself.');
		expect(refusal('note', 'out', 'note', 'in')).toBe('A node cannot feed itself.');
	});

	it('types that fit, or convert, connect', () => {
		expect(refusal('p', 'text', 't', 'prompt')).toBeNull();
		expect(refusal('t', 'image', 's', 'images')).toBeNull(); // image → images
		expect(refusal('int', 'value', 't', 'seed')).toBeNull(); // int → seed
		expect(refusal('seed', 'seed', 't', 'seed')).toBeNull();
	});

	it('types that do not fit are refused, saying why', () => {
		expect(refusal('p', 'text', 's', 'images')).toBe('“images” takes images, but Prompt gives text.');
		expect(refusal('int', 'value', 's', 'images')).toBe('“images” takes images, but Number gives int.');
		expect(refusal('seed', 'seed', 't', 'model')).toBe('“model” takes model, but Seed gives seed.');
	});

	it('notes take and give anything', () => {
		expect(refusal('note', 'out', 't', 'model')).toBeNull();
		expect(refusal('t', 'image', 'note', 'in')).toBeNull();
	});

	it('unknown nodes or handles are not judged here', () => {
		expect(refusal('gone', 'x', 't', 'prompt')).toBeNull();
		expect(refusal('p', 'text', 'gone', 'x')).toBeNull();
		expect(refusal('p', 'nope', 's', 'images')).toBeNull();
		expect(refusal('p', 'text', 's', 'nope')).toBeNull();
	});
});

describe('fitOptions', () => {
	it('frames a graph on a phone no smaller than readable titles', () => {
		const phone = fitOptions(390, null);
		expect((phone.minZoom ?? 0) * TITLE_PX).toBeGreaterThanOrEqual(READABLE_TITLE_PX);
		expect(fitOptions(390, 'a').minZoom).toBe(phone.minZoom);
	});
	it('fits the whole graph on a wide canvas, however small it gets', () => {
		expect(fitOptions(900, null).minZoom).toBeUndefined();
		expect(fitOptions(588, null).minZoom).toBeUndefined(); // a tablet's canvas between two panels
		expect(fitOptions(900, 'a')).toMatchObject({ nodes: [{ id: 'a' }], maxZoom: 1 });
	});
});
