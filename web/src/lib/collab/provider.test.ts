/**
 * The server's notices (message type 100) on a real y-websocket provider: read, handed to listeners, logged
 * once; and the presence throttle slowing down when told that presence was dropped.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { ThrottledPresence } from './awareness';
import { createProvider, messageNotice, onNotice, type StudioNotice } from './provider';

beforeAll(() => {
	vi.stubGlobal('location', { protocol: 'http:', host: 'studio.test' });
	vi.stubGlobal('WebSocket', class {}); // never opened: the providers here do not connect
});

afterEach(() => {
	vi.restoreAllMocks();
	vi.useRealTimers();
});

function deliver(provider: ReturnType<typeof createProvider>, payload: string): void {
	const message = encoding.createEncoder();
	encoding.writeVarUint(message, messageNotice);
	encoding.writeVarString(message, payload);
	const decoder = decoding.createDecoder(encoding.toUint8Array(message));
	const type = decoding.readVarUint(decoder);
	const handler = provider.messageHandlers[type];
	expect(handler).toBeDefined();
	handler?.(encoding.createEncoder(), decoder, provider, true, type);
}

const slowDown = JSON.stringify({ type: 'slow-down', what: 'presence', limit: 30, window_seconds: 1, message: 'Slow down' });

describe('server notices', () => {
	it('reach every listener and are logged once per provider', () => {
		const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
		const provider = createProvider('/api/v1/projects/p/scenes', 's/sync', new Y.Doc(), false);
		const heard: StudioNotice[] = [];
		onNotice(provider, (notice) => heard.push(notice));
		deliver(provider, slowDown);
		deliver(provider, slowDown);
		expect(heard.map((n) => [n.type, n.limit])).toEqual([
			['slow-down', 30],
			['slow-down', 30]
		]);
		expect(warn).toHaveBeenCalledTimes(1);
		expect(String(warn.mock.calls[0]?.[0])).toContain('Slow down');
		provider.destroy();
	});

	it('ignore what is not a notice', () => {
		const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
		const provider = createProvider('/api/v1/projects/p/scenes', 's/sync', new Y.Doc(), false);
		const heard: StudioNotice[] = [];
		onNotice(provider, (notice) => heard.push(notice));
		deliver(provider, 'not json');
		deliver(provider, '[1, 2]');
		expect(heard).toEqual([]);
		expect(warn).not.toHaveBeenCalled();
		provider.destroy();
	});
});

describe('ThrottledPresence', () => {
	it('spaces its sends further apart each time the server says presence was dropped', () => {
		vi.useFakeTimers();
		const awareness = new Awareness(new Y.Doc());
		const presence = new ThrottledPresence(awareness);
		expect(presence.interval).toBe(40);
		presence.slowDown(30);
		expect(presence.interval).toBe(80);
		const sent: number[] = [];
		awareness.on('update', () => sent.push(Date.now()));
		for (let x = 0; x < 50; x++) {
			presence.set({ cursor: { x, y: 0 } });
			vi.advanceTimersByTime(10); // a cursor moving every 10 ms for half a second
		}
		vi.advanceTimersByTime(200);
		const gaps = sent.slice(1).map((at, i) => at - (sent[i] ?? 0));
		expect(gaps.length).toBeGreaterThan(3);
		expect(Math.min(...gaps)).toBeGreaterThanOrEqual(80);
		expect((awareness.getLocalState() as { cursor: { x: number } }).cursor.x).toBe(49); // the latest went out
		for (let i = 0; i < 10; i++) presence.slowDown(30);
		expect(presence.interval).toBe(1000);
		presence.destroy();
	});
});
