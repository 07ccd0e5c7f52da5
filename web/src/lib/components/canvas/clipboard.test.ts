import { describe, expect, it } from 'vitest';
import type { NodeType, Port } from '$lib/api/engine';
import type { GraphEdge, GraphNode } from '$lib/api/scenes';
import { GENERIC_TYPE } from '$lib/collab/sceneDoc.svelte';
import {
	CLIPBOARD_FORMAT,
	copyOf,
	MAX_CLIPBOARD_CHARS,
	MAX_PASTE_NODES,
	PASTE_OFFSET,
	placed,
	readClipboard,
	remapIds,
	toText,
	type ClipboardFragment
} from './clipboard';

const port = (name: string, type: string): Port => ({ name, type, required: true, description: '' });
const type = (id: string, title: string, extra: Partial<NodeType> = {}): NodeType => ({
	id, title, category: 'Text', description: '', version: 1, output_node: false, inputs: [], outputs: [], params_schema: {}, ...extra
});
const PROMPT = type('prompt', 'Prompt', {
	outputs: [port('text', 'text')],
	params_schema: { properties: { text: { default: '', type: 'string', maxLength: 4000 } } }
});
const UPSCALE = type('upscale', 'Upscale', {
	inputs: [port('image', 'image')],
	outputs: [port('image', 'image')],
	params_schema: {
		properties: {
			factor: { default: 2, type: 'number', minimum: 1, maximum: 8 },
			method: { default: 'lanczos', enum: ['lanczos', 'nearest'], type: 'string' }
		}
	}
});
const TYPES = new Map([PROMPT, UPSCALE].map((t) => [t.id, t]));
const known = (id: string) => TYPES.get(id);

const node = (nodeType: string, x: number, y: number, params: Record<string, unknown> = {}): GraphNode => ({
	type: nodeType, title: nodeType, position: { x, y }, params, bypass: false
});
const edge = (source: string, sourceHandle: string, target: string, targetHandle: string): GraphEdge => ({
	source, source_handle: sourceHandle, target, target_handle: targetHandle
});
const GRAPH = {
	nodes: { a: node('prompt', 0, 0, { text: 'dusk' }), b: node('upscale', 300, 50, { factor: 3 }), c: node('upscale', 600, 50) },
	edges: { 'a:text->b:image': edge('a', 'text', 'b', 'image'), 'b:image->c:image': edge('b', 'image', 'c', 'image') }
};
const read = (value: unknown) => readClipboard(typeof value === 'string' ? value : JSON.stringify(value), known, GENERIC_TYPE);
const wrap = (nodes: unknown, edges: unknown = []) => ({ format: CLIPBOARD_FORMAT, version: 1, nodes, edges });

describe('copying', () => {
	it('takes the nodes asked for and only the edges between them', () => {
		const copy = copyOf(GRAPH, ['b', 'c', 'gone']);
		expect(Object.keys(copy.nodes)).toEqual(['b', 'c']);
		expect(copy.edges).toEqual([edge('b', 'image', 'c', 'image')]);
		copy.nodes['b']!.params['factor'] = 5; // a copy, not the graph's own objects
		expect(GRAPH.nodes.b.params['factor']).toBe(3);
	});

	it('reads back what it wrote, colour and collapse included', () => {
		const graph = { nodes: { ...GRAPH.nodes, a: { ...GRAPH.nodes.a, color: 'teal' as const, collapsed: true } }, edges: GRAPH.edges };
		const copy = copyOf(graph, ['a', 'b', 'c']);
		expect(read(toText(copy))).toEqual({ fragment: copy, refused: [] });
	});
});

describe('reading a clipboard (hostile text)', () => {
	it('leaves text that is not copied nodes alone, saying nothing', () => {
		for (const text of ['hello', '{"a": 1}', '[]', 'null', '']) expect(read(text)).toEqual({ fragment: null, refused: [] });
	});

	it('refuses too much text and other versions of the format as a whole', () => {
		expect(read('x'.repeat(MAX_CLIPBOARD_CHARS + 1)).refused[0]).toMatch(/more than 1 MB/);
		expect(read({ ...wrap({}), version: 2 })).toEqual({ fragment: null, refused: [expect.stringMatching(/another version/)] });
	});

	it('leaves out nodes of unknown kinds and their links, and says so', () => {
		const { fragment, refused } = read(wrap({ a: node('prompt', 0, 0), x: node('rm_rf', 9, 9) }, [edge('a', 'text', 'x', 'in')]));
		expect(Object.keys(fragment!.nodes)).toEqual(['a']);
		expect(fragment!.edges).toEqual([]);
		expect(refused).toEqual([
			'“rm_rf”: “rm_rf” is not a kind of node this studio has: left out.',
			'1 link between nodes that were not pasted, or ports they do not have: left out.'
		]);
	});

	it('checks parameters as the server would: out of range, unknown and not plain are left out', () => {
		const { fragment, refused } = read(wrap({ b: node('upscale', 0, 0, { factor: 99, method: 'nearest', evil: 1, nested: {} }) }));
		expect(fragment!.nodes['b']!.params).toEqual({ method: 'nearest' });
		expect(refused).toEqual([
			'“upscale”: factor: Must be at most 8. Its default is used.',
			'“upscale”: Upscale has no parameter “evil”: left out.',
			'“upscale”: Upscale has no parameter “nested”: left out.'
		]);
	});

	it('bounds counts, titles, positions and colours', () => {
		const many = Object.fromEntries(Array.from({ length: MAX_PASTE_NODES + 5 }, (_, i) => [`n${i}`, node('prompt', i, 0)]));
		const counted = read(wrap(many));
		expect(Object.keys(counted.fragment!.nodes)).toHaveLength(MAX_PASTE_NODES);
		expect(counted.refused).toEqual([`A paste holds at most ${MAX_PASTE_NODES} nodes: 5 were left out.`]);

		const odd = { ...node('prompt', 1e300, Number.NaN), title: 't'.repeat(500), color: 'url(javascript:alert(1))', collapsed: 'yes', bypass: 1 };
		const { fragment, refused } = read(wrap({ a: odd, 'bad id!': node('prompt', 0, 0) }));
		expect(fragment!.nodes['a']).toEqual({ type: 'prompt', title: 't'.repeat(120), position: { x: 1_000_000, y: 0 }, params: {}, bypass: false });
		expect(refused).toHaveLength(3);
	});

	it('keeps links only between pasted nodes and ports they have', () => {
		const edges = [edge('a', 'text', 'b', 'image'), edge('a', 'nope', 'b', 'image'), edge('b', 'image', 'b', 'image'), { source: 1 }];
		const { fragment, refused } = read(wrap({ a: node('prompt', 0, 0), b: node('upscale', 0, 0) }, edges));
		expect(fragment!.edges).toEqual([edge('a', 'text', 'b', 'image')]);
		expect(refused).toEqual(['3 links between nodes that were not pasted, or ports they do not have: left out.']);
	});

	it('takes notes with bounded free-form values', () => {
		const { fragment, refused } = read(wrap({ n: node(GENERIC_TYPE, 0, 0, { colour: 'blue', big: 'x'.repeat(30_000) }) }));
		expect(fragment!.nodes['n']!.params).toEqual({ colour: 'blue' });
		expect(refused).toEqual(['“generic”: the value “big” is not a short plain value: left out.']);
	});
});

describe('pasting', () => {
	it('gives every node a fresh id and keeps the links between them', () => {
		let next = 0;
		const { nodes, edges, ids } = remapIds(copyOf(GRAPH, ['a', 'b']), () => `new${next++}`);
		expect(Object.keys(nodes)).toEqual(['new0', 'new1']);
		expect(edges).toEqual([edge('new0', 'text', 'new1', 'image')]);
		expect([...ids]).toEqual([['a', 'new0'], ['b', 'new1']]);
	});

	it('moves a link’s reroute point with its nodes, and reads one only as two numbers', () => {
		const routed = { ...GRAPH, edges: { ...GRAPH.edges, 'a:text->b:image': { ...edge('a', 'text', 'b', 'image'), via: { x: 150, y: 60 } } } };
		const copy = copyOf(routed, ['a', 'b']);
		expect(placed(copy, null).edges[0]!.via).toEqual({ x: 150 + PASTE_OFFSET.x, y: 60 + PASTE_OFFSET.y });
		const odd = read(wrap({ a: node('prompt', 0, 0), b: node('upscale', 0, 0) }, [{ ...edge('a', 'text', 'b', 'image'), via: { x: 'far' } }]));
		expect(odd.fragment!.edges).toEqual([edge('a', 'text', 'b', 'image')]);
	});

	it('lands the top-left node at the pointer, or beside the originals', () => {
		const copy: ClipboardFragment = copyOf(GRAPH, ['b', 'c']);
		const at = placed(copy, { x: 1000.4, y: -20 });
		expect(Object.values(at.nodes).map((n) => n.position)).toEqual([{ x: 1000, y: -20 }, { x: 1300, y: -20 }]);
		const beside = placed(copy, null);
		expect(beside.nodes['b']!.position).toEqual({ x: 300 + PASTE_OFFSET.x, y: 50 + PASTE_OFFSET.y });
		expect(copy.nodes['b']!.position).toEqual({ x: 300, y: 50 }); // the copy itself is unchanged
	});
});

describe('groups on the clipboard', () => {
	const frame = { x: 0, y: 0, width: 400, height: 200 };
	const grouped = {
		nodes: { a: { ...node('prompt', 10, 60), group: 'g1' }, b: { ...node('upscale', 200, 60), group: 'g1' }, c: node('upscale', 500, 0) },
		edges: {},
		groups: { g1: { title: 'Prompts', bounds: frame, color: 'teal' as const } }
	};

	it('copies a group with every node in it, and none for a node copied without the rest', () => {
		expect(copyOf(grouped, ['a', 'b']).groups).toEqual({ g1: grouped.groups.g1 });
		const part = copyOf(grouped, ['a', 'c']);
		expect(part.groups).toBeUndefined();
		expect(part.nodes['a']!.group).toBeUndefined();
		expect(grouped.nodes.a.group).toBe('g1'); // the graph itself is left alone
	});

	it('moves a pasted group with its nodes', () => {
		const moved = placed(copyOf(grouped, ['a', 'b']), { x: 1010, y: 1060 });
		expect(moved.groups!['g1']!.bounds).toEqual({ x: 1000, y: 1000, width: 400, height: 200 });
	});

	it('reads hostile groups within bounds and drops a node’s group that was not copied', () => {
		const text = JSON.stringify({
			format: CLIPBOARD_FORMAT,
			version: 1,
			nodes: { a: { ...node('prompt', 0, 0), group: 'g1' }, b: { ...node('prompt', 0, 0), group: 'nowhere' } },
			edges: [],
			groups: {
				g1: { title: 'x'.repeat(500), bounds: { x: 1e12, y: 'top', width: -3, height: 1e20 }, color: 'url(javascript:1)', bypass: 'yes' },
				'bad id': { title: 'dropped' }
			}
		});
		const { fragment } = readClipboard(text, known, GENERIC_TYPE);
		expect(fragment!.groups).toEqual({ g1: { title: 'x'.repeat(120), bounds: { x: 1_000_000, y: 0, width: 40, height: 1_000_000 } } });
		expect(fragment!.nodes['a']!.group).toBe('g1');
		expect(fragment!.nodes['b']!.group).toBeUndefined();
	});
});
