import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import type { GraphNode } from '$lib/api/scenes';
import {
	diffText,
	edgeKey,
	edgesOf,
	editText,
	epochOf,
	insertEdge,
	insertNode,
	metaOf,
	moveNode,
	newNodeId,
	nodesOf,
	paramsOf,
	plain,
	readEdge,
	readGraph,
	readNode,
	removeElements,
	setLook,
	setVia,
	transformIndex,
	writeParam,
	yValue
} from './model';

/** A node as the server answers one: every field there, the title the type's when none is given (as the server fills it). */
const node = (type: string, extra: Partial<GraphNode> = {}): GraphNode => ({ type, title: type, position: { x: 0, y: 0 }, params: {}, bypass: false, ...extra });
const edge = (source: string, source_handle: string, target: string, target_handle: string) => ({ source, source_handle, target, target_handle });

/** A document with nodes a (prompt), b (text_to_image), c (save), in one transaction. */
function sceneDoc(): Y.Doc {
	const doc = new Y.Doc();
	doc.transact(() => {
		metaOf(doc).set('schema', 1);
		metaOf(doc).set('epoch', 7);
		insertNode(doc, 'a', node('prompt', { title: 'Prompt', params: { text: 'a cat' } }));
		insertNode(doc, 'b', node('text_to_image', { position: { x: 200, y: 10 }, params: { steps: 20 } }));
		insertNode(doc, 'c', node('save'));
	});
	return doc;
}

/** Exchanges what each document lacks, as two peers syncing through a server would. */
function sync(a: Y.Doc, b: Y.Doc): void {
	const toB = Y.encodeStateAsUpdate(a, Y.encodeStateVector(b));
	const toA = Y.encodeStateAsUpdate(b, Y.encodeStateVector(a));
	Y.applyUpdate(b, toB);
	Y.applyUpdate(a, toA);
}

function copyOf(doc: Y.Doc): Y.Doc {
	const copy = new Y.Doc();
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
	return copy;
}

afterEach(() => {
	vi.restoreAllMocks();
});

describe('epochOf', () => {
	it('is the meta epoch when it is a number, else null', () => {
		const doc = new Y.Doc();
		expect(epochOf(doc)).toBeNull();
		metaOf(doc).set('epoch', 1700000000000);
		expect(epochOf(doc)).toBe(1700000000000);
		metaOf(doc).set('epoch', '3');
		expect(epochOf(doc)).toBeNull();
		metaOf(doc).set('epoch', 0);
		expect(epochOf(doc)).toBe(0);
	});
});

describe('edgeKey', () => {
	it('is source:handle->target:handle, as the server keys edges', () => {
		expect(edgeKey(edge('n_1', 'image', 'n_2', 'images'))).toBe('n_1:image->n_2:images');
	});
});

describe('newNodeId', () => {
	it('is n_ and hex digits', () => {
		expect(newNodeId(new Y.Doc())).toMatch(/^n_[0-9a-f]{1,8}$/);
	});

	it('never answers an id the document already has', () => {
		const doc = new Y.Doc();
		const random = vi.spyOn(Math, 'random');
		random.mockReturnValue(0.5); // "0.8" → n_8
		const first = newNodeId(doc);
		expect(first).toBe('n_8');
		insertNode(doc, first, node('prompt'));
		random.mockReturnValueOnce(0.5).mockReturnValueOnce(0.5).mockReturnValueOnce(0.25);
		expect(newNodeId(doc)).toBe('n_4');
	});
});

describe('plain', () => {
	it('turns Y types into JSON, Y.Text into its string', () => {
		const doc = new Y.Doc();
		const root = doc.getMap<unknown>('root');
		const inner = new Y.Map<unknown>();
		root.set('inner', inner);
		inner.set('text', new Y.Text('hi'));
		inner.set('n', 3);
		const list = new Y.Array<unknown>();
		inner.set('list', list);
		list.push([1, 'two', new Y.Text('three')]);
		expect(plain(root)).toEqual({ inner: { text: 'hi', n: 3, list: [1, 'two', 'three'] } });
		expect(plain(undefined)).toBeNull();
		expect(plain(false)).toBe(false);
		expect(plain(0)).toBe(0);
	});
});

describe('reading', () => {
	it('readNode fills in what is missing or malformed', () => {
		const doc = new Y.Doc();
		const nodes = nodesOf(doc);
		const bare = new Y.Map<unknown>();
		nodes.set('bare', bare);
		expect(readNode(bare)).toEqual({ type: 'unknown', title: '', position: { x: 0, y: 0 }, params: {}, bypass: false });

		const odd = new Y.Map<unknown>();
		nodes.set('odd', odd);
		odd.set('type', 42);
		odd.set('title', null);
		const position = new Y.Map<unknown>();
		odd.set('position', position);
		position.set('x', 'left');
		position.set('y', Number.POSITIVE_INFINITY);
		odd.set('params', 'not a map');
		odd.set('bypass', 'yes');
		expect(readNode(odd)).toEqual({ type: 'unknown', title: '', position: { x: 0, y: 0 }, params: {}, bypass: false });
	});

	it('readEdge needs all four fields as strings', () => {
		const doc = new Y.Doc();
		const edges = edgesOf(doc);
		const whole = new Y.Map<unknown>();
		edges.set('whole', whole);
		for (const [k, v] of Object.entries(edge('a', 'text', 'b', 'prompt'))) whole.set(k, v);
		expect(readEdge(whole)).toEqual(edge('a', 'text', 'b', 'prompt'));
		whole.set('target_handle', 3);
		expect(readEdge(whole)).toBeNull();
		whole.delete('target_handle');
		expect(readEdge(whole)).toBeNull();
	});

	it('readGraph leaves out entries that are not maps and edges whose ends are gone', () => {
		const doc = sceneDoc();
		doc.transact(() => {
			insertEdge(doc, edge('a', 'text', 'b', 'prompt'));
			insertEdge(doc, edge('b', 'image', 'c', 'images'));
			nodesOf(doc).delete('c'); // the edge b → c now dangles
			(nodesOf(doc) as Y.Map<unknown>).set('junk', 'not a node');
			(edgesOf(doc) as Y.Map<unknown>).set('junk', 5);
		});
		const graph = readGraph(doc);
		expect(Object.keys(graph.nodes).sort()).toEqual(['a', 'b']);
		expect(graph.edges).toEqual({ 'a:text->b:prompt': edge('a', 'text', 'b', 'prompt') });
	});
});

describe('writing', () => {
	it('insertNode stores what readGraph reads back, positions rounded, title defaulting to the type', () => {
		const doc = new Y.Doc();
		// Deliberately without title and bypass (a node from an older client or a hand-built one): insertNode fills them in.
		const untitled = { type: 'upscale', position: { x: 10.6, y: -3.4 }, params: { factor: 2, method: 'lanczos', tags: ['a', 'b'], opts: { deep: 'x' } } };
		insertNode(doc, 'n', untitled as unknown as GraphNode);
		expect(readGraph(doc).nodes['n']).toEqual({
			type: 'upscale',
			title: 'upscale',
			position: { x: 11, y: -3 },
			params: { factor: 2, method: 'lanczos', tags: ['a', 'b'], opts: { deep: 'x' } },
			bypass: false
		});
		// Deliberately without params (partial data): insertNode stores an empty map; an empty title stays empty.
		insertNode(doc, 'm', { type: 'prompt', title: '', position: { x: 0, y: 0 }, bypass: true } as unknown as GraphNode);
		expect(readGraph(doc).nodes['m']).toMatchObject({ title: '', params: {}, bypass: true });
	});

	it('keeps a node’s colour and collapse, unset while unset, and reads a colour off the palette as none', () => {
		const doc = new Y.Doc();
		insertNode(doc, 'n', node('prompt', { color: 'teal', collapsed: true }));
		expect(readGraph(doc).nodes['n']).toEqual(node('prompt', { color: 'teal', collapsed: true }));
		expect(setLook(doc, 'n', 'color', 'teal')).toBe(false); // no change, no transaction
		expect(setLook(doc, 'n', 'color', null)).toBe(true);
		expect(setLook(doc, 'n', 'collapsed', null)).toBe(true);
		expect(nodesOf(doc).get('n')!.has('color')).toBe(false);
		expect(readGraph(doc).nodes['n']).toEqual(node('prompt'));
		nodesOf(doc).get('n')!.set('color', 'javascript:alert(1)');
		nodesOf(doc).get('n')!.set('collapsed', 'yes');
		expect(readGraph(doc).nodes['n']).toEqual(node('prompt'));
		expect(setLook(doc, 'gone', 'color', 'red')).toBe(false);
	});

	it('gives a link a reroute point, moves it and takes it away', () => {
		const doc = sceneDoc();
		const key = insertEdge(doc, edge('a', 'text', 'b', 'prompt'))!;
		expect(setVia(doc, key, { x: 100.4, y: 50 })).toBe(true);
		expect(readGraph(doc).edges[key]).toEqual({ ...edge('a', 'text', 'b', 'prompt'), via: { x: 100, y: 50 } });
		expect(setVia(doc, key, { x: 100, y: 50 })).toBe(false);
		expect(setVia(doc, key, null)).toBe(true);
		expect(readGraph(doc).edges[key]).toEqual(edge('a', 'text', 'b', 'prompt'));
		expect(setVia(doc, 'nope', { x: 1, y: 1 })).toBe(false);
	});

	it('stores strings as Y.Text (the server does too), nested objects as Y.Map, lists as they are', () => {
		const doc = sceneDoc();
		const params = paramsOf(doc, 'a');
		expect(params?.get('text')).toBeInstanceOf(Y.Text);
		expect(yValue('x')).toBeInstanceOf(Y.Text);
		expect(yValue({ a: 'b' })).toBeInstanceOf(Y.Map);
		expect(yValue(['x', 1])).toEqual(['x', 1]);
		expect(yValue(null)).toBeNull();
		expect(yValue(3)).toBe(3);
		expect(yValue(true)).toBe(true);
	});

	it('moveNode rounds, reports whether anything changed, and refuses unknown nodes', () => {
		const doc = sceneDoc();
		expect(moveNode(doc, 'b', { x: 200.2, y: 9.6 })).toBe(false); // rounds to where it is
		expect(moveNode(doc, 'b', { x: 250.4, y: 10 })).toBe(true);
		expect(readNode(nodesOf(doc).get('b')!).position).toEqual({ x: 250, y: 10 });
		expect(moveNode(doc, 'nope', { x: 1, y: 1 })).toBe(false);
		expect(nodesOf(doc).has('nope')).toBe(false);
	});

	it('moveNode gives a node without a position one', () => {
		const doc = sceneDoc();
		nodesOf(doc).get('c')!.delete('position');
		expect(moveNode(doc, 'c', { x: 5, y: 6 })).toBe(true);
		expect(readNode(nodesOf(doc).get('c')!).position).toEqual({ x: 5, y: 6 });
	});

	it('removeElements removes the nodes, every edge touching them, the edges named and broken edges', () => {
		const doc = sceneDoc();
		insertNode(doc, 'd', node('save'));
		insertEdge(doc, edge('a', 'text', 'b', 'prompt'));
		insertEdge(doc, edge('b', 'image', 'c', 'images'));
		insertEdge(doc, edge('b', 'image', 'd', 'images'));
		const broken = new Y.Map<unknown>();
		edgesOf(doc).set('broken', broken);
		broken.set('source', 'a');
		removeElements(doc, ['c'], ['a:text->b:prompt', 'not-an-edge']);
		expect(Object.keys(readGraph(doc).nodes).sort()).toEqual(['a', 'b', 'd']);
		expect([...edgesOf(doc).keys()]).toEqual(['b:image->d:images']);
	});

	it('insertEdge refuses loops and missing ends', () => {
		const doc = sceneDoc();
		expect(insertEdge(doc, edge('b', 'image', 'b', 'image'))).toBeNull();
		expect(insertEdge(doc, edge('a', 'text', 'zz', 'prompt'))).toBeNull();
		expect(insertEdge(doc, edge('zz', 'text', 'b', 'prompt'))).toBeNull();
		expect(edgesOf(doc).size).toBe(0);
	});

	it('insertEdge: an input takes one edge (a new one replaces it), an output feeds many', () => {
		const doc = sceneDoc();
		insertNode(doc, 'p2', node('prompt'));
		insertNode(doc, 'd', node('save'));
		expect(insertEdge(doc, edge('a', 'text', 'b', 'prompt'))).toBe('a:text->b:prompt');
		expect(insertEdge(doc, edge('p2', 'text', 'b', 'prompt'))).toBe('p2:text->b:prompt');
		insertEdge(doc, edge('b', 'image', 'c', 'images'));
		insertEdge(doc, edge('b', 'image', 'd', 'images'));
		expect([...edgesOf(doc).keys()].sort()).toEqual(['b:image->c:images', 'b:image->d:images', 'p2:text->b:prompt']);
	});

	it('insertEdge of an edge that exists changes nothing', () => {
		const doc = sceneDoc();
		const key = insertEdge(doc, edge('a', 'text', 'b', 'prompt'));
		const entry = edgesOf(doc).get(key!);
		let updates = 0;
		doc.on('update', () => updates++);
		expect(insertEdge(doc, edge('a', 'text', 'b', 'prompt'))).toBe(key);
		expect(edgesOf(doc).get(key!)).toBe(entry);
		expect(updates).toBe(0);
	});

	it('paramsOf creates the map of a node that lacks one, and is null for unknown nodes', () => {
		const doc = sceneDoc();
		nodesOf(doc).get('c')!.delete('params');
		const params = paramsOf(doc, 'c');
		expect(params).toBeInstanceOf(Y.Map);
		expect(nodesOf(doc).get('c')!.get('params')).toBe(params);
		expect(paramsOf(doc, 'nope')).toBeNull();
	});

	it('writeParam edits an existing text in place, sets other values, and skips no-ops', () => {
		const doc = sceneDoc();
		const text = paramsOf(doc, 'a')!.get('text');
		writeParam(doc, 'a', 'text', 'a black cat');
		expect(paramsOf(doc, 'a')!.get('text')).toBe(text); // the same Y.Text, edited
		expect(readGraph(doc).nodes['a']?.params).toEqual({ text: 'a black cat' });

		let updates = 0;
		doc.on('update', () => updates++);
		writeParam(doc, 'b', 'steps', 20);
		writeParam(doc, 'a', 'text', 'a black cat');
		expect(updates).toBe(0);

		writeParam(doc, 'b', 'steps', 30);
		writeParam(doc, 'b', 'model', 'sd15');
		writeParam(doc, 'a', 'text', 7); // a number where text was: replaced
		expect(readGraph(doc).nodes['b']?.params).toEqual({ steps: 30, model: 'sd15' });
		expect(paramsOf(doc, 'b')!.get('model')).toBeInstanceOf(Y.Text);
		expect(readGraph(doc).nodes['a']?.params).toEqual({ text: 7 });
		writeParam(doc, 'nope', 'x', 1);
		expect(nodesOf(doc).has('nope')).toBe(false);
	});
});

describe('two people editing at once', () => {
	it('typing into one prompt merges character by character', () => {
		const alice = sceneDoc();
		const bob = copyOf(alice);
		writeParam(alice, 'a', 'text', 'a fluffy cat'); // inserts "fluffy "
		writeParam(bob, 'a', 'text', 'a cat at night'); // appends " at night"
		sync(alice, bob);
		expect(readGraph(alice).nodes['a']?.params?.['text']).toBe('a fluffy cat at night');
		expect(readGraph(bob)).toEqual(readGraph(alice));
	});

	it('different fields of one node both keep their change', () => {
		const alice = sceneDoc();
		const bob = copyOf(alice);
		moveNode(alice, 'b', { x: 300, y: 40 });
		writeParam(bob, 'b', 'steps', 35);
		alice.transact(() => (nodesOf(alice).get('b')!.set('bypass', true)));
		writeParam(bob, 'b', 'width', 768);
		sync(alice, bob);
		expect(readGraph(alice).nodes['b']).toEqual({
			type: 'text_to_image',
			title: 'text_to_image',
			position: { x: 300, y: 40 },
			params: { steps: 35, width: 768 },
			bypass: true
		});
		expect(readGraph(bob)).toEqual(readGraph(alice));
	});

	it("an edge to a node someone else removed meanwhile is left out of the graph", () => {
		const alice = sceneDoc();
		const bob = copyOf(alice);
		removeElements(alice, ['c'], []);
		insertEdge(bob, edge('b', 'image', 'c', 'images'));
		sync(alice, bob);
		expect(readGraph(alice).edges).toEqual({});
		expect(readGraph(bob).edges).toEqual({});
	});
});

describe('diffText', () => {
	it('no change is null', () => {
		expect(diffText('same', 'same')).toBeNull();
		expect(diffText('', '')).toBeNull();
	});

	it('finds the one insertion, deletion or replacement', () => {
		// Ambiguous spots are settled towards the start (the end is matched first).
		expect(diffText('a cat', 'a black cat')).toEqual({ index: 1, remove: 0, insert: ' black' });
		expect(diffText('a black cat', 'a cat')).toEqual({ index: 1, remove: 6, insert: '' });
		expect(diffText('a cat', 'a dog')).toEqual({ index: 2, remove: 3, insert: 'dog' });
		expect(diffText('', 'new')).toEqual({ index: 0, remove: 0, insert: 'new' });
		expect(diffText('old', '')).toEqual({ index: 0, remove: 3, insert: '' });
	});

	it('settles a repeated letter by the caret', () => {
		// "aa" → "aaa": without a caret, the change is taken at the start.
		expect(diffText('aa', 'aaa')).toEqual({ index: 0, remove: 0, insert: 'a' });
		expect(diffText('aa', 'aaa', 3)).toEqual({ index: 2, remove: 0, insert: 'a' });
		expect(diffText('aa', 'aaa', 2)).toEqual({ index: 1, remove: 0, insert: 'a' });
		expect(diffText('abab', 'ababab', 4)).toEqual({ index: 2, remove: 0, insert: 'ab' });
	});

	it('never splits an emoji at the start of the change', () => {
		// 😀 (d83d de00) → 😃 (d83d de03): same high surrogate.
		expect(diffText('x😀', 'x😃')).toEqual({ index: 1, remove: 2, insert: '😃' });
	});

	it('never splits an emoji at the end of the change', () => {
		// 🔔 (d83d dd14) → 🤔 (d83e dd14): same low surrogate.
		expect(diffText('x🔔', 'x🤔')).toEqual({ index: 1, remove: 2, insert: '🤔' });
		expect(diffText('🔔!', '🤔!')).toEqual({ index: 0, remove: 2, insert: '🤔' });
	});

	it('the splice, applied, gives the new text', () => {
		const cases: [string, string, number?][] = [
			['hello world', 'hello brave new world'],
			['hello', 'help'],
			['aaaa', 'aa', 1],
			['x🔔y', 'x🤔y'],
			['😀😀', '😀'],
			['ab', 'a😀b', 3]
		];
		for (const [before, after, caret] of cases) {
			const change = diffText(before, after, caret)!;
			expect(before.slice(0, change.index) + change.insert + before.slice(change.index + change.remove)).toBe(after);
		}
	});
});

describe('diffText on many random edits', () => {
	it('always gives the new text and never cuts an emoji in two', () => {
		let seed = 12345;
		const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
		const pieces = ['a', 'b', ' ', '😀', '😃', '🔔', '🤔', '🈀'];
		const text = () => Array.from({ length: Math.floor(random() * 6) }, () => pieces[Math.floor(random() * pieces.length)]).join('');
		const high = (s: string, i: number) => /[\ud800-\udbff]/.test(s.charAt(i));
		const low = (s: string, i: number) => /[\udc00-\udfff]/.test(s.charAt(i));
		for (let run = 0; run < 2000; run++) {
			const before = text();
			const after = text();
			const change = diffText(before, after);
			if (before === after) {
				expect(change).toBeNull();
				continue;
			}
			expect(change).not.toBeNull();
			const { index, remove, insert } = change!;
			expect(before.slice(0, index) + insert + before.slice(index + remove), `${before} → ${after}`).toBe(after);
			expect(low(before, index) || high(before, index + remove - 1), `${before} → ${after}: removes half a character`).toBe(false);
			expect(low(insert, 0) || high(insert, insert.length - 1), `${before} → ${after}: inserts half a character`).toBe(false);
		}
	});
});

describe('editText', () => {
	it('turns a Y.Text into the new text, emoji included', () => {
		const doc = new Y.Doc();
		const text = doc.getText('t');
		text.insert(0, 'a 🔔 at noon');
		for (const after of ['a 🤔 at noon', 'a 😀 at noon', 'a 😀 noon!', '']) {
			editText(text, text.toString(), after);
			expect(text.toString()).toBe(after);
		}
	});

	it('what it sends reaches another copy intact', () => {
		const doc = new Y.Doc();
		doc.getText('t').insert(0, 'x🔔');
		const other = copyOf(doc);
		doc.on('update', (update: Uint8Array) => Y.applyUpdate(other, update));
		editText(doc.getText('t'), 'x🔔', 'x🤔');
		expect(other.getText('t').toString()).toBe('x🤔');
	});

	it('no change writes nothing', () => {
		const doc = new Y.Doc();
		const text = doc.getText('t');
		text.insert(0, 'same');
		let updates = 0;
		doc.on('update', () => updates++);
		editText(text, 'same', 'same');
		expect(updates).toBe(0);
	});
});

describe('transformIndex', () => {
	it('moves past text inserted or deleted before it', () => {
		expect(transformIndex(5, [{ retain: 2 }, { insert: 'abc' }])).toBe(8);
		expect(transformIndex(5, [{ retain: 1 }, { delete: 2 }])).toBe(3);
		expect(transformIndex(5, [{ insert: 'x' }, { retain: 3 }, { delete: 1 }])).toBe(5);
	});

	it('stays put for changes after it', () => {
		expect(transformIndex(2, [{ retain: 4 }, { insert: 'abc' }])).toBe(2);
		expect(transformIndex(2, [{ retain: 2 }, { delete: 5 }])).toBe(2);
	});

	it('text inserted exactly at it goes after it', () => {
		expect(transformIndex(3, [{ retain: 3 }, { insert: 'zz' }])).toBe(3);
		expect(transformIndex(0, [{ insert: 'zz' }])).toBe(0);
	});

	it('a deletion around it brings it to where the deletion starts', () => {
		expect(transformIndex(4, [{ retain: 2 }, { delete: 5 }])).toBe(2);
		expect(transformIndex(4, [{ delete: 10 }])).toBe(0);
	});

	it('follows a real Y.Text delta', () => {
		const doc = new Y.Doc();
		const text = doc.getText('t');
		text.insert(0, 'hello world');
		let delta: { retain?: number; insert?: unknown; delete?: number }[] = [];
		text.observe((event) => (delta = event.delta as typeof delta));
		const caret = 'hello wor'.length; // in "world"
		doc.transact(() => {
			text.delete(0, 'hello '.length);
			text.insert(0, 'brave new ');
		});
		const moved = transformIndex(caret, delta);
		expect(text.toString().slice(0, moved)).toBe('brave new wor');
	});
});

describe("a shot's review state", () => {
	it('is read leniently from the node, and left out while unset', () => {
		const doc = new Y.Doc();
		insertNode(doc, 'hero', { type: 'shot', title: 'Hero', position: { x: 0, y: 0 }, params: {}, bypass: false });
		const node = nodesOf(doc).get('hero') as Y.Map<unknown>;
		expect(readNode(node).review).toBeUndefined();
		const review = new Y.Map<unknown>();
		node.set('review', review);
		review.set('status', 'done');
		review.set('take', 'as_1');
		review.set('take_by', 7);
		review.set('order', 2);
		expect(readNode(node).review).toEqual({ status: 'todo', take: 'as_1', order: 2 });
		review.set('status', 'approved');
		expect(readNode(node).review?.status).toBe('approved');
	});
});
