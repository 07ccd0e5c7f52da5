import { fetchHealth, type Health } from '$lib/api/client';

export type ServerStatus = 'connecting' | 'online' | 'offline';

const ONLINE_POLL_MS = 30_000;
const OFFLINE_POLL_MS = [2_000, 5_000, 10_000, 30_000];

/** What the studio knows about the server it talks to: reachable or not, its version and GPU. */
class ServerStore {
	status = $state<ServerStatus>('connecting');
	health = $state<Health | null>(null);

	#timer: ReturnType<typeof setTimeout> | undefined;
	#controller: AbortController | undefined;
	#failures = 0;
	#running = false;

	/** Starts polling `/api/v1/health`; returns a function that stops it. */
	start(): () => void {
		if (this.#running) return () => this.stop();
		this.#running = true;
		window.addEventListener('online', this.refresh);
		void this.refresh();
		return () => this.stop();
	}

	stop(): void {
		this.#running = false;
		clearTimeout(this.#timer);
		this.#controller?.abort();
		window.removeEventListener('online', this.refresh);
	}

	refresh = async (): Promise<void> => {
		clearTimeout(this.#timer);
		this.#controller?.abort();
		const controller = (this.#controller = new AbortController());
		let health: Health | null;
		try {
			health = await fetchHealth(controller.signal);
		} catch {
			return; // aborted by stop() or by a newer refresh
		}
		this.health = health ?? this.health;
		this.status = health ? 'online' : 'offline';
		this.#failures = health ? 0 : this.#failures + 1;
		this.#schedule();
	};

	#schedule(): void {
		if (!this.#running) return;
		const delay =
			this.status === 'online'
				? ONLINE_POLL_MS
				: (OFFLINE_POLL_MS[Math.min(this.#failures, OFFLINE_POLL_MS.length) - 1] ?? 30_000);
		this.#timer = setTimeout(() => void this.refresh(), delay);
	}
}

export const server = new ServerStore();
