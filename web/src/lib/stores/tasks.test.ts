import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The REST calls the task store makes, counted; the event stream's socket, played by the test.
vi.mock('$lib/api/tasks', async (original) => ({
	...(await original<typeof import('$lib/api/tasks')>()),
	listTasks: vi.fn(async () => ({ ok: true, data: [] })),
	fetchQueue: vi.fn(async () => ({ ok: true, data: { lanes: [], tasks: [] } }))
}));
vi.mock('$app/navigation', () => ({ goto: vi.fn() }));

class FakeSocket {
	static CONNECTING = 0;
	static OPEN = 1;
	static last: FakeSocket | null = null;
	readyState = FakeSocket.CONNECTING;
	onopen: (() => void) | null = null;
	onmessage: ((message: { data: unknown }) => void) | null = null;
	onclose: ((close: { code: number }) => void) | null = null;
	constructor(readonly url: string) {
		FakeSocket.last = this;
	}
	addEventListener(): void {}
	close(): void {}
	open(): void {
		this.readyState = FakeSocket.OPEN;
		this.onopen?.();
	}
	closedByServer(code: number): void {
		this.readyState = 3;
		this.onclose?.({ code });
	}
}

vi.stubGlobal('WebSocket', FakeSocket);
vi.stubGlobal('location', { protocol: 'http:', host: '127.0.0.1:8750' });

const { listTasks } = await import('$lib/api/tasks');
const { whenUnauthorized } = await import('$lib/api/client');
const { events } = await import('./events.svelte');
const { server } = await import('./server.svelte');
const { tasks } = await import('./tasks.svelte');

describe('tasks while the event stream is down', () => {
	let ended = 0;

	beforeEach(() => {
		vi.useFakeTimers();
		ended = 0;
		whenUnauthorized(() => (ended += 1));
		server.status = 'online';
		tasks.start('user-1');
		events.start();
		FakeSocket.last?.open();
		vi.mocked(listTasks).mockClear();
	});
	afterEach(() => {
		tasks.stop();
		events.stop();
		vi.useRealTimers();
	});

	it('asks the REST API every few seconds while the stream reconnects', async () => {
		await vi.advanceTimersByTimeAsync(10_000);
		expect(listTasks).not.toHaveBeenCalled(); // the stream is open: events say everything

		FakeSocket.last?.closedByServer(1006);
		expect(events.status).toBe('connecting');
		await vi.advanceTimersByTimeAsync(5_000);
		expect(vi.mocked(listTasks).mock.calls.length).toBeGreaterThan(0);
		expect(ended).toBe(0);
	});

	it('does not ask once the server ended the session (4401): those requests could only be refused', async () => {
		FakeSocket.last?.closedByServer(4401);
		expect(events.status).toBe('closed');
		expect(ended).toBe(1); // the session ends here too: the studio goes to its login page
		await vi.advanceTimersByTimeAsync(10_000);
		expect(listTasks).not.toHaveBeenCalled();
	});
});
