/**
 * The epoch guard on a real y-websocket provider, driven through a stand-in WebSocket: what the
 * server says (its sync step 1, live updates, its answer to ours) arrives in the order a test
 * chooses, and what the provider sends is recorded.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import { messageSync, WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { guardEpoch } from './epochGuard';
import { epochOf, insertNode, metaOf, moveNode, nodesOf, readGraph, writeParam } from './model';

class FakeSocket {
	static made: FakeSocket[] = [];
	readonly CONNECTING = 0;
	readonly OPEN = 1;
	readonly CLOSING = 2;
	readonly CLOSED = 3;
	readyState = 0;
	binaryType = 'blob';
	sent: Uint8Array[] = [];
	onopen: ((event: unknown) => void) | null = null;
	onmessage: ((event: { data: ArrayBuffer }) => void) | null = null;
	onclose: ((event: unknown) => void) | null = null;
	onerror: ((event: unknown) => void) | null = null;

	constructor(readonly url: string) {
		FakeSocket.made.push(this);
	}

	send(data: Uint8Array): void {
		this.sent.push(new Uint8Array(data));
	}

	close(): void {
		this.readyState = this.CLOSED;
	}

	open(): void {
		this.readyState = this.OPEN;
		this.onopen?.({});
	}

	receive(message: Uint8Array): void {
		this.onmessage?.({ data: message.slice().buffer });
	}

	/** The sync messages sent so far, by kind: 0 step 1, 1 step 2, 2 update. */
	syncSent(): { kind: number; payload: Uint8Array; message: Uint8Array }[] {
		return this.sent.flatMap((message) => {
			const decoder = decoding.createDecoder(message);
			if (decoding.readVarUint(decoder) !== messageSync) return [];
			const kind = decoding.readVarUint(decoder);
			return [{ kind, payload: decoding.readVarUint8Array(decoder), message }];
		});
	}
}

const STEP1 = syncProtocol.messageYjsSyncStep1;
const STEP2 = syncProtocol.messageYjsSyncStep2;
const UPDATE = syncProtocol.messageYjsUpdate;

function message(write: (encoder: encoding.Encoder) => void): Uint8Array {
	const encoder = encoding.createEncoder();
	encoding.writeVarUint(encoder, messageSync);
	write(encoder);
	return encoding.toUint8Array(encoder);
}

const step1Of = (doc: Y.Doc) => message((encoder) => syncProtocol.writeSyncStep1(encoder, doc));
const updateMessage = (update: Uint8Array) => message((encoder) => syncProtocol.writeUpdate(encoder, update));

/** What the server does with a sync message from the browser: its answer (to a step 1), if any. */
function serverReads(server: Y.Doc, incoming: Uint8Array): Uint8Array | null {
	const decoder = decoding.createDecoder(incoming);
	expect(decoding.readVarUint(decoder)).toBe(messageSync);
	const encoder = encoding.createEncoder();
	encoding.writeVarUint(encoder, messageSync);
	syncProtocol.readSyncMessage(decoder, encoder, server, 'browser');
	return encoding.length(encoder) > 1 ? encoding.toUint8Array(encoder) : null;
}

/** The server's document as it builds one: meta and a graph, all in one update. */
function serverDoc(epoch: number): Y.Doc {
	const doc = new Y.Doc();
	doc.transact(() => {
		metaOf(doc).set('schema', 1);
		metaOf(doc).set('epoch', epoch);
		insertNode(doc, 'p', { type: 'prompt', title: 'prompt', position: { x: 0, y: 0 }, params: { text: 'a cat' }, bypass: false });
		insertNode(doc, 't', { type: 'text_to_image', title: 'text_to_image', position: { x: 300, y: 0 }, params: { steps: 20 }, bypass: false });
	});
	return doc;
}

function copyOf(doc: Y.Doc): Y.Doc {
	const copy = new Y.Doc();
	Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
	return copy;
}

/** An edit someone else makes on the server, as the update the server relays. */
function remoteEdit(server: Y.Doc, edit: (doc: Y.Doc) => void): Uint8Array {
	let relayed: Uint8Array | null = null;
	const keep = (update: Uint8Array) => (relayed = update);
	server.on('update', keep);
	server.transact(() => edit(server));
	server.off('update', keep);
	return updateMessage(relayed!);
}

const providers: WebsocketProvider[] = [];

function connect(local: Y.Doc, localEpoch: () => number | null = () => epochOf(local)) {
	const stale: number[] = [];
	const provider = new WebsocketProvider('ws://studio.test/api', 'scene/sync', local, {
		connect: false,
		disableBc: true,
		WebSocketPolyfill: FakeSocket as unknown as typeof WebSocket
	});
	providers.push(provider);
	guardEpoch(provider, localEpoch, () => stale.push(1));
	provider.connect();
	const socket = FakeSocket.made.at(-1)!;
	socket.open();
	return { provider, socket, stale };
}

afterEach(() => {
	for (const provider of providers.splice(0)) provider.destroy();
	FakeSocket.made = [];
});

describe('guardEpoch, the server of the same epoch', () => {
	it('holds the server’s messages until its answer, then applies all and sends what the server lacks', () => {
		const server = serverDoc(1000);
		const local = copyOf(server);
		moveNode(local, 't', { x: 320, y: 40 }); // an edit made offline
		const { provider, socket, stale } = connect(local);
		const [hello] = socket.syncSent();
		expect(hello?.kind).toBe(STEP1);

		socket.receive(step1Of(server)); // the server asks what it lacks: no answer yet
		// The server answers our step 1, but someone's edit is relayed before that answer is sent.
		const answer = serverReads(server, hello!.message)!;
		socket.receive(remoteEdit(server, (doc) => writeParam(doc, 'p', 'text', 'a black cat'))); // live: held
		expect(socket.syncSent()).toHaveLength(1);
		expect(readGraph(local).nodes['p']?.params?.['text']).toBe('a cat');
		expect(provider.synced).toBe(false);

		socket.receive(answer); // same epoch
		expect(stale).toEqual([]);
		expect(provider.synced).toBe(true);
		expect(readGraph(local).nodes['p']?.params?.['text']).toBe('a black cat'); // the held update, applied

		// The answer to the server's step 1, sent now: the offline edit, and no echo of what it sent.
		const sent = socket.syncSent().slice(1);
		expect(sent.map((m) => m.kind)).toEqual([STEP2]);
		expect(serverReads(server, sent[0]!.message)).toBeNull();
		expect(readGraph(server)).toEqual(readGraph(local));
		expect(readGraph(server).nodes['t']?.position).toEqual({ x: 320, y: 40 });
	});

	it('an answer that sets no epoch (nothing new for this device) also lets everything through', () => {
		const server = serverDoc(1000);
		const local = copyOf(server);
		const { provider, socket, stale } = connect(local);
		const [hello] = socket.syncSent();
		socket.receive(step1Of(server));
		socket.receive(serverReads(server, hello!.message)!);
		expect(stale).toEqual([]);
		expect(provider.synced).toBe(true);
		// Live updates now go straight in.
		socket.receive(remoteEdit(server, (doc) => moveNode(doc, 'p', { x: 5, y: 5 })));
		expect(readGraph(local).nodes['p']?.position).toEqual({ x: 5, y: 5 });
	});

	it('edits made here while waiting for the verdict reach the server only after it, in the answer', () => {
		const server = serverDoc(1000);
		const local = copyOf(server);
		const { socket } = connect(local);
		const [hello] = socket.syncSent();
		socket.receive(step1Of(server));
		local.transact(() => writeParam(local, 'p', 'text', 'a cat, at dusk'));
		expect(socket.syncSent().map((m) => m.kind)).toEqual([STEP1]); // nothing sent yet

		socket.receive(serverReads(server, hello!.message)!);
		const sent = socket.syncSent().slice(1);
		expect(sent.map((m) => m.kind)).toEqual([STEP2]);
		serverReads(server, sent[0]!.message);
		expect(readGraph(server).nodes['p']?.params?.['text']).toBe('a cat, at dusk');

		// Once verified, edits go out live again.
		local.transact(() => moveNode(local, 'p', { x: 9, y: 9 }));
		expect(socket.syncSent().slice(2).map((m) => m.kind)).toEqual([UPDATE]);
	});
});

describe('guardEpoch, a server that rebuilt the document', () => {
	it('calls onstale and merges nothing either way', () => {
		const old = serverDoc(1000);
		const local = copyOf(old);
		moveNode(local, 't', { x: 320, y: 40 });
		const before = readGraph(local);
		const server = serverDoc(2000); // rebuilt from the scene file: a new epoch, new history
		const { provider, socket, stale } = connect(local);
		const [hello] = socket.syncSent();

		socket.receive(step1Of(server));
		socket.receive(remoteEdit(server, (doc) => writeParam(doc, 'p', 'text', 'a dog')));
		local.transact(() => writeParam(local, 'p', 'text', 'a cat, at dusk')); // typed meanwhile
		socket.receive(serverReads(server, hello!.message)!);

		expect(stale).toEqual([1]);
		expect(provider.synced).toBe(false);
		expect(epochOf(local)).toBe(1000);
		expect(readGraph(local)).toEqual({ ...before, nodes: { ...before.nodes, p: { ...before.nodes['p']!, params: { text: 'a cat, at dusk' } } } });
		// Nothing of this device's old history went to the server.
		expect(socket.syncSent().map((m) => m.kind)).toEqual([STEP1]);
		expect(epochOf(server)).toBe(2000);
		expect(readGraph(server).nodes['t']?.position).toEqual({ x: 300, y: 0 });

		// Later messages are not applied either.
		socket.receive(remoteEdit(server, (doc) => moveNode(doc, 't', { x: 1, y: 1 })));
		expect(readGraph(local).nodes['t']?.position).toEqual({ x: 320, y: 40 });
	});

	it('is checked again on every connection', () => {
		let server = serverDoc(1000);
		const local = copyOf(server);
		const { provider, socket, stale } = connect(local);
		socket.receive(step1Of(server));
		socket.receive(serverReads(server, socket.syncSent()[0]!.message)!);
		expect(stale).toEqual([]);

		provider.disconnect();
		server = serverDoc(3000); // the update log was lost while this device was away
		provider.connect();
		const second = FakeSocket.made.at(-1)!;
		expect(second).not.toBe(socket);
		second.open();
		second.receive(step1Of(server));
		second.receive(serverReads(server, second.syncSent()[0]!.message)!);
		expect(stale).toEqual([1]);
		expect(epochOf(local)).toBe(1000);
	});
});

describe('guardEpoch, a device with nothing of the server’s yet', () => {
	it('lets the plain protocol run: answers at once, applies at once', () => {
		const server = serverDoc(1000);
		const local = new Y.Doc();
		let asked = 0;
		const { provider, socket, stale } = connect(local, () => (asked++, null));
		expect(asked).toBe(1); // asked on connecting
		socket.receive(step1Of(server));
		expect(socket.syncSent().map((m) => m.kind)).toEqual([STEP1, STEP2]); // answered at once
		socket.receive(remoteEdit(server, (doc) => nodesOf(doc).get('p')!.set('bypass', true)));
		socket.receive(serverReads(server, socket.syncSent()[0]!.message)!);
		expect(stale).toEqual([]);
		expect(provider.synced).toBe(true);
		expect(readGraph(local)).toEqual(readGraph(server));
		expect(epochOf(local)).toBe(1000);
	});
});
