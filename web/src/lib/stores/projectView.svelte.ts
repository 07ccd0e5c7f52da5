/**
 * What the project views that list server state have in common (the Activity view, the Board): loaded when the
 * view opens, loaded again while it is on show when one of the named events concerns the open project (a burst
 * makes one load), and after the event stream reconnects (changes may have happened while it was down). An answer
 * that arrives after a newer load began is dropped.
 */
import type { Problem, Result } from '$lib/api/problem';
import { events, type EventOf, type EventType } from './events.svelte';

/** The events that name a project. */
export type ProjectEventType = { [K in EventType]: EventOf<K> extends { project_id: string } ? K : never }[EventType];

/** Events in a burst (several scenes written at once, a batch of takes) make one load. */
const SETTLE_MS = 150;

export abstract class ProjectView<T> {
	projectId = $state<string | null>(null);
	loading = $state(false);
	/** Whether an answer (or a refusal) came for the open project. */
	loaded = $state(false);
	problem = $state<Problem | null>(null);
	/** Whether the view is on show (only then do events schedule a load). */
	visible = $state(false);

	#timer: ReturnType<typeof setTimeout> | undefined;
	/** Bumped by each load; an answer carrying an older ticket is stale. */
	protected ticket = 0;

	constructor(types: readonly ProjectEventType[]) {
		for (const type of types) {
			events.on(type, (event) => {
				if (event.project_id !== this.projectId || !this.visible) return;
				clearTimeout(this.#timer);
				this.#timer = setTimeout(() => void this.refresh(), SETTLE_MS);
			});
		}
		events.on('hello', () => {
			if (this.visible && this.projectId) void this.refresh();
		});
	}

	/** Fetches the view's data for a project. */
	protected abstract load(projectId: string): Promise<Result<T>>;
	/** Forgets the last project's data. */
	protected abstract clear(): void;
	/** Takes a fresh answer. */
	protected abstract take(data: T): void;

	open(projectId: string | null): void {
		if (projectId === this.projectId) return;
		this.projectId = projectId;
		this.loaded = false;
		this.problem = null;
		this.clear();
		if (projectId && this.visible) void this.refresh();
	}

	show(visible: boolean): void {
		this.visible = visible;
		clearTimeout(this.#timer);
		if (visible) void this.refresh();
	}

	async refresh(): Promise<void> {
		const projectId = this.projectId;
		if (!projectId) return;
		const ticket = ++this.ticket;
		this.loading = true;
		const result = await this.load(projectId);
		if (ticket !== this.ticket) return;
		this.loading = false;
		this.loaded = true;
		if (!result.ok) {
			this.problem = result.problem;
			return;
		}
		this.problem = null;
		this.take(result.data);
	}
}
