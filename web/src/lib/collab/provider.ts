/**
 * A y-websocket provider set up the way the server needs it:
 * no BroadcastChannel between tabs (it would deliver updates to the server out of causal order),
 * refusals (4401 log in, 4403, 4404, 4410 removed) end the retries, and only this browser's own
 * presence is sent: y-websocket's default re-sends every state it hears, which the server would
 * stamp with this user's name.
 */
import * as awarenessProtocol from 'y-protocols/awareness';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { messageAwareness, WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';

/** The WebSocket origin of the API: the studio's own (its cookies authenticate the socket). */
export function wsOrigin(): string {
	return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}`;
}

/** Close codes 4400–4499 are refusals; 4429 ("too many updates per second") is worth another try. */
function shouldReconnect(event: CloseEvent): boolean {
	return event.code === 4429 || !(event.code >= 4400 && event.code < 4500);
}

/** The studio's own message type, server to client: one JSON object (docs/security/sockets.md). */
export const messageNotice = 100;

/** What the server tells a client: today only that its presence messages went over the limit and were dropped. */
export interface StudioNotice {
	type: string;
	what?: string;
	/** Messages allowed per `window_seconds`. */
	limit?: number;
	window_seconds?: number;
	message?: string;
}

const noticeListeners = new WeakMap<WebsocketProvider, Set<(notice: StudioNotice) => void>>();
const told = new WeakSet<WebsocketProvider>();

/** Calls `listener` with every notice the server sends on this provider's socket; returns the unsubscribe. */
export function onNotice(provider: WebsocketProvider, listener: (notice: StudioNotice) => void): () => void {
	const listeners = noticeListeners.get(provider) ?? new Set();
	noticeListeners.set(provider, listeners);
	listeners.add(listener);
	return () => listeners.delete(listener);
}

/** A notice as it arrives (after its type): a varString of JSON. An unreadable one is ignored. */
export function readNotice(decoder: decoding.Decoder): StudioNotice | null {
	try {
		const notice = JSON.parse(decoding.readVarString(decoder)) as StudioNotice;
		return notice && typeof notice === 'object' && typeof notice.type === 'string' ? notice : null;
	} catch {
		return null;
	}
}

export function createProvider(path: string, room: string, doc: Y.Doc, connect: boolean): WebsocketProvider {
	const provider = new WebsocketProvider(`${wsOrigin()}${path}`, room, doc, {
		connect,
		disableBc: true,
		shouldReconnect,
		maxBackoffTime: 5000
	});
	provider.messageHandlers[messageNotice] = (_encoder, decoder) => {
		const notice = readNotice(decoder);
		if (!notice) return;
		if (!told.has(provider)) {
			told.add(provider); // once per socket's provider: the server repeats it at most once a second
			console.warn(`The server says (${provider.url}): ${notice.message ?? notice.type}`);
		}
		noticeListeners.get(provider)?.forEach((listener) => listener(notice));
	};
	const { awareness } = provider;
	awareness.off('update', provider._awarenessUpdateHandler);
	const sendOwn = ({ added, updated, removed }: Record<'added' | 'updated' | 'removed', number[]>) => {
		if (![...added, ...updated, ...removed].includes(awareness.clientID)) return;
		const ws = provider.ws;
		if (!provider.wsconnected || !ws || ws.readyState !== ws.OPEN) return;
		const encoder = encoding.createEncoder();
		encoding.writeVarUint(encoder, messageAwareness);
		encoding.writeVarUint8Array(encoder, awarenessProtocol.encodeAwarenessUpdate(awareness, [awareness.clientID]));
		ws.send(encoding.toUint8Array(encoder));
	};
	provider._awarenessUpdateHandler = sendOwn;
	awareness.on('update', sendOwn);
	return provider;
}

export /** Runs `then` once the provider's socket is not half-open (closing one that is connecting logs a browser warning). */
function whenSettled(provider: WebsocketProvider, then: () => void): void {
	const ws = provider.ws;
	if (ws?.readyState !== WebSocket.CONNECTING) return then();
	provider.shouldConnect = false; // no new attempt meanwhile
	let done = false;
	const once = () => {
		if (!done) (done = true), then();
	};
	ws.addEventListener('open', once, { once: true });
	ws.addEventListener('close', once, { once: true });
}
