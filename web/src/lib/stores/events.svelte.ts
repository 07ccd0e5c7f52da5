/**
 * The server's event stream (`WS /api/v1/events`): one connection per tab, reconnecting with a
 * growing delay, handing each JSON event to the stores that subscribed to its type. Events are
 * per workspace; the stream is reopened when the user's workspaces change so new ones are heard.
 * Their types come from the server's models (the `StudioEvent` schema, see docs/events.md).
 */
import { sessionEnded } from '$lib/api/client';
import type { components } from '$lib/api/schema';

/** One message of the stream: `hello`, then task, queue, project and asset events; narrow on `type`. */
export type StudioEvent = components['schemas']['StudioEvent'];
export type EventType = StudioEvent['type'];
/** The message of one type (or of several: `EventOf<'asset.created' | 'asset.updated'>`). */
export type EventOf<T extends EventType> = Extract<StudioEvent, { type: T }>;

export type EventStatus = 'idle' | 'connecting' | 'open' | 'closed';

type Handler = (event: StudioEvent) => void;

const RETRY_MS = [500, 1_000, 2_000, 5_000, 10_000];

/** Closes a socket; one still connecting is closed once open (closing it earlier logs a browser warning). */
export function closeQuietly(socket: WebSocket): void {
	if (socket.readyState === WebSocket.CONNECTING) socket.addEventListener('open', () => socket.close(1000), { once: true });
	else socket.close(1000);
}

class EventStream {
	status = $state<EventStatus>('idle');

	#socket: WebSocket | null = null;
	#handlers = new Map<string, Set<Handler>>();
	#timer: ReturnType<typeof setTimeout> | undefined;
	#failures = 0;
	#wanted = false;

	/** Calls `handler` for events of `type` ('*' for all); returns the unsubscribe function. */
	on<T extends EventType>(type: T, handler: (event: EventOf<T>) => void): () => void;
	on(type: '*', handler: Handler): () => void;
	on(type: string, handler: Handler): () => void {
		let set = this.#handlers.get(type);
		if (!set) this.#handlers.set(type, (set = new Set()));
		set.add(handler);
		return () => set.delete(handler);
	}

	start(): void {
		this.#wanted = true;
		if (!this.#socket) this.#connect();
	}

	stop(): void {
		this.#wanted = false;
		clearTimeout(this.#timer);
		const socket = this.#socket;
		this.#socket = null;
		if (socket) closeQuietly(socket);
		this.status = 'idle';
	}

	/** (Re)opens the stream: at log-in, and after the user joined or left a workspace. */
	restart(): void {
		this.stop();
		this.start();
	}

	#connect(): void {
		clearTimeout(this.#timer);
		const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/v1/events`;
		const socket = new WebSocket(url);
		this.#socket = socket;
		this.status = 'connecting';
		socket.onopen = () => {
			if (socket !== this.#socket) return;
			this.status = 'open';
			this.#failures = 0;
		};
		socket.onmessage = (message) => {
			if (socket !== this.#socket || typeof message.data !== 'string') return;
			let event: StudioEvent;
			try {
				event = JSON.parse(message.data) as StudioEvent;
			} catch {
				return;
			}
			this.#dispatch(event);
		};
		socket.onclose = (close) => {
			if (socket !== this.#socket) return;
			this.#socket = null;
			// 4401: the session ended (logged out here or elsewhere, expired): the studio goes to its login
			// page, which starts the stream again.
			if (!this.#wanted || close.code === 4401) {
				this.status = 'closed';
				if (close.code === 4401) sessionEnded();
				return;
			}
			this.status = 'connecting';
			const delay = RETRY_MS[Math.min(this.#failures, RETRY_MS.length - 1)] ?? 10_000;
			this.#failures += 1;
			this.#timer = setTimeout(() => this.#connect(), delay);
		};
	}

	#dispatch(event: StudioEvent): void {
		for (const key of [event.type, '*']) {
			for (const handler of this.#handlers.get(key) ?? []) {
				try {
					handler(event);
				} catch (error) {
					console.error(`Handling the ${event.type} event failed`, error);
				}
			}
		}
	}
}

export const events = new EventStream();
