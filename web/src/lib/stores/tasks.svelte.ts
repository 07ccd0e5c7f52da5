/**
 * The user's tasks (exports, previews, scene runs…) and the queue, live: the event stream's `hello`
 * gives the state at each (re)connect, `task.*` events each change, `queue.changed` the places and
 * ETAs of waiting tasks. Tasks are kept by id; an event older than what is known (lower `revision`)
 * is dropped. While the stream is down, the REST API is asked instead. Finishing tasks make toasts.
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import {
	cancelTask,
	fetchQueue,
	forceStopTask,
	isActive,
	listTasks,
	setLanesPaused,
	type Lane,
	type LaneName,
	type QueuePlace,
	type Task
} from '$lib/api/tasks';
import type { Problem } from '$lib/api/problem';
import { events, type EventOf } from './events.svelte';
import { notices } from './notices.svelte';
import { server } from './server.svelte';
import { toasts } from './toasts.svelte';

/** The task events: each carries the task's whole record. */
const TASK_EVENTS = ['task.queued', 'task.started', 'task.progress', 'task.succeeded', 'task.failed', 'task.cancelled'] as const;

/** What `queue.changed` (or the REST queue, or a pause) says of the queue: either part may be missing. */
interface QueueView {
	lanes?: Lane[];
	tasks?: QueuePlace[];
}

const CLEARED_KEY = 'mediastudio.tasks.cleared.v1';
const RECENT = 20;
/** How often the REST API is asked while the event stream is down. */
const POLL_MS = 4_000;

function loadCleared(): number {
	try {
		return Number(localStorage.getItem(CLEARED_KEY)) || 0;
	} catch {
		return 0;
	}
}

/** A scene's run: everyone in its project sees it on the canvas, so others' are kept too (runs.svelte.ts). */
export function sharedRun(task: Task): boolean {
	return task.kind === 'scene.run';
}

function finishedAt(task: Task): number {
	return Date.parse(task.finished_at ?? task.updated_at);
}

/** Running first (oldest start first), then waiting ones in the order their lanes will take them. */
function runOrder(a: Task, b: Task): number {
	const rank = (t: Task) => (t.status === 'running' ? 0 : 1);
	return (
		rank(a) - rank(b) ||
		(a.position ?? Infinity) - (b.position ?? Infinity) ||
		Date.parse(a.started_at ?? a.created_at) - Date.parse(b.started_at ?? b.created_at)
	);
}

class TaskStore {
	/** Every task this tab knows (an administrator also hears everyone else's active ones). */
	readonly byId = new SvelteMap<string, Task>();
	/** Each lane's workers, counts, pause and backlog. */
	lanes = $state.raw<Lane[]>([]);
	/** Waiting and running tasks in run order (an administrator's: everyone's). */
	order = $state.raw<QueuePlace[]>([]);
	/** Tasks whose Cancel was pressed and that have not ended yet. */
	readonly cancelling = new SvelteSet<string>();
	userId = $state<string | null>(null);
	/** The clock the ETAs count down with (ticks each second while the store runs). */
	now = $state(Date.now());
	clearedAt = $state(typeof localStorage === 'undefined' ? 0 : loadCleared());
	/** Whether a Progress panel is on screen (the corner tray then stands aside). */
	panelShown = $state(false);
	/** Tasks seen ending since this page opened, until the corner tray is closed. */
	readonly fresh = new SvelteSet<string>();

	readonly mine = $derived([...this.byId.values()].filter((t) => t.owner_id === this.userId));
	readonly active = $derived(this.mine.filter(isActive).sort(runOrder));
	readonly finished = $derived(
		this.mine
			.filter((t) => !isActive(t) && finishedAt(t) > this.clearedAt)
			.sort((a, b) => finishedAt(b) - finishedAt(a))
			.slice(0, RECENT)
	);
	readonly running = $derived(this.active.filter((t) => t.status === 'running'));
	/** Others' runs of scenes still waiting or running (a run is shared: its project's members hear it), by project. */
	readonly othersRuns = $derived(
		[...this.byId.values()].filter((t) => sharedRun(t) && t.owner_id !== this.userId && isActive(t)).sort(runOrder)
	);

	/** Client-clock time each task's ETA was last set, so a running one counts down between events. */
	#stamps = new Map<string, number>();
	#announced = new Set<string>();
	/** Tasks the REST API has described (with their owner's name), so the queue page need not ask again. */
	#described = new Set<string>();
	#timer: ReturnType<typeof setInterval> | undefined;
	#sinceRest = 0;
	#followers = 0;
	#queueFetch: Promise<void> | null = null;

	constructor() {
		events.on('hello', (event) => this.#hello(event));
		for (const type of TASK_EVENTS) events.on(type, (event) => this.put(event.task, true));
		events.on('queue.changed', (event) => this.#applyQueue(event));
	}

	/** Follows `userId`'s tasks: the REST state now, events from then on. */
	start(userId: string): void {
		if (userId === this.userId && this.#timer) return;
		if (userId !== this.userId) this.#reset(userId);
		this.#timer ??= setInterval(() => this.#tick(), 1_000);
		void this.refresh();
	}

	stop(): void {
		clearInterval(this.#timer);
		this.#timer = undefined;
		this.#reset(null);
	}

	/** The REST fallback: active and recent tasks, and the queue's places. */
	async refresh(): Promise<void> {
		this.#sinceRest = Date.now();
		const following = this.userId;
		const [active, recent] = await Promise.all([
			listTasks({ status: ['queued', 'running', 'interrupted'], limit: 100 }),
			listTasks({ status: ['succeeded', 'failed', 'cancelled'], limit: RECENT })
		]);
		// Logged out (or someone else logged in) meanwhile: these answers are not theirs, and asking for the
		// queue now would only be refused.
		if (this.userId !== following || following === null) return;
		for (const result of [active, recent]) {
			if (result.ok) for (const task of result.data) this.put(task, false);
		}
		await this.loadQueue();
	}

	/** `GET /api/v1/queue`: lanes, and the full records of the tasks in it (everyone's for administrators). */
	loadQueue(): Promise<void> {
		this.#queueFetch ??= (async () => {
			const result = await fetchQueue();
			if (!result.ok) return;
			for (const task of result.data.tasks) {
				this.put(task, false);
				this.#described.add(task.id);
			}
			this.#applyQueue({
				lanes: result.data.lanes,
				tasks: result.data.tasks.map((t) => ({ ...t, position: t.position ?? null, starts_in_seconds: t.starts_in_seconds ?? null }))
			});
		})().finally(() => (this.#queueFetch = null));
		return this.#queueFetch;
	}

	/** While the admin queue page is open: tasks the queue names but this tab has not heard of are fetched. */
	followQueue(): () => void {
		this.#followers += 1;
		void this.loadQueue();
		return () => (this.#followers -= 1);
	}

	/** Administrators: pause or resume lanes; the queue's new state is applied at once. */
	async setPaused(paused: boolean, lanes: LaneName[]): Promise<Problem | null> {
		const result = await setLanesPaused(paused, lanes);
		if (!result.ok) return result.problem;
		this.#applyQueue({ lanes: result.data.lanes });
		return null;
	}

	/** Cancels a task: a waiting one at once, a running one at its next step. */
	async cancel(id: string): Promise<Problem | null> {
		this.cancelling.add(id);
		const result = await cancelTask(id);
		if (!result.ok) {
			this.cancelling.delete(id);
			return result.problem;
		}
		this.put(result.data.task, false);
		if (result.data.outcome !== 'stopping') this.cancelling.delete(id);
		return null;
	}

	/** Administrators: ends a running task now (its step is left to return; what it makes is discarded). */
	async forceStop(id: string): Promise<Problem | null> {
		const result = await forceStopTask(id);
		if (!result.ok) return result.problem;
		this.put(result.data, false);
		return null;
	}

	/** Hides the finished tasks listed now (in this browser; they stay on the server). */
	clearFinished(): void {
		this.clearedAt = Math.max(Date.now(), ...this.finished.map(finishedAt));
		try {
			localStorage.setItem(CLEARED_KEY, String(this.clearedAt));
		} catch {
			// storage disabled: cleared for this visit only
		}
	}

	/** Seconds left for a running task (counting down since the last event), or until a waiting one is done. */
	etaLeft(task: Task): number | null {
		if (task.eta_seconds == null) return null;
		if (task.status !== 'running') return task.eta_seconds;
		const since = (this.now - (this.#stamps.get(task.id) ?? this.now)) / 1000;
		return Math.max(0, task.eta_seconds - since);
	}

	/** Records a task's state unless a newer one is known; `live`: it came as an event just now. */
	put(incoming: Task, live: boolean): void {
		const known = this.byId.get(incoming.id);
		if (known && incoming.revision < known.revision) {
			// An older state (a REST answer lags the events): only the owner's name, which events lack, is news.
			if ((known.owner_name == null && incoming.owner_name) || (known.project_name == null && incoming.project_name)) {
				this.byId.set(known.id, {
					...known,
					owner_name: known.owner_name ?? incoming.owner_name,
					project_name: known.project_name ?? incoming.project_name
				});
			}
			return;
		}
		const task = { ...incoming };
		if (known && !isActive(known) && isActive(task) && incoming.revision === known.revision) return;
		// task.* events carry no owner name nor queue place: keep what the REST API or queue.changed gave.
		task.owner_name ??= known?.owner_name;
		task.project_name ??= known?.project_name;
		if (known && task.status !== 'running' && known.status === task.status) {
			task.position ??= known.position;
			task.starts_in_seconds ??= known.starts_in_seconds;
			task.eta_seconds ??= known.eta_seconds;
		}
		if (task.eta_seconds !== known?.eta_seconds || !known) this.#stamps.set(task.id, Date.now());
		if (!isActive(task)) this.cancelling.delete(task.id);
		if (!isActive(task) && task.owner_id !== this.userId && !sharedRun(task)) {
			this.byId.delete(task.id); // someone else's (administrators hear them): only the queue shows those
			return;
		}
		this.byId.set(task.id, task);
		if ((live || (known && isActive(known))) && !isActive(task)) this.#announce(task);
	}

	#hello(event: EventOf<'hello'>): void {
		if (event.user_id !== this.userId) this.#reset(event.user_id);
		const listed = new Set(event.tasks.map((t) => t.id));
		for (const task of event.tasks) this.put(task, false);
		// The hello lists every active task of the user: one it leaves out ended while we were away.
		for (const task of this.active) if (!listed.has(task.id)) this.byId.delete(task.id);
		this.#applyQueue(event.queue);
	}

	#applyQueue(view: QueueView): void {
		if (view.lanes) this.lanes = view.lanes;
		if (!view.tasks) return;
		this.order = view.tasks;
		let unheard = false;
		for (const place of view.tasks) {
			const known = this.byId.get(place.id);
			if (!known || !this.#described.has(place.id)) unheard = true;
			if (!known) continue;
			// A running task's progress and ETA come fresher in its own events; the queue says where waiting ones stand.
			if (!isActive(known) || known.status === 'running' || place.status === 'running') continue;
			if (place.eta_seconds !== known.eta_seconds) this.#stamps.set(place.id, Date.now());
			this.byId.set(place.id, {
				...known,
				position: place.position,
				starts_in_seconds: place.starts_in_seconds,
				eta_seconds: place.eta_seconds
			});
		}
		if (unheard && this.#followers > 0) void this.loadQueue();
	}

	#announce(task: Task): void {
		if (task.owner_id !== this.userId || this.#announced.has(task.id)) return;
		this.#announced.add(task.id);
		this.fresh.add(task.id);
		const asked = Date.parse(task.created_at);
		if (task.status === 'succeeded') {
			// An upload's previews are part of it: the upload's own toast already says the files are in.
			if (task.kind === 'media.previews') return;
			const batch = this.#batchOf(task);
			if (batch) {
				// One toast for a batch of runs, when its last run is done (a failure still says so at once).
				if (batch.some((sibling) => sibling.status === 'queued' || sibling.status === 'running')) return;
				const made = batch.flatMap((sibling) => (Array.isArray(sibling.result?.['assets']) ? (sibling.result['assets'] as unknown[]) : []));
				const title = task.title.replace(/ \(\d+ of \d+\)$/, ` ×${batch.length}`);
				const link = made.length && task.project_id ? { label: `${made.length} asset${made.length === 1 ? '' : 's'}`, href: `/projects/${encodeURIComponent(task.project_id)}` } : undefined;
				const said = { title: `${title} finished`, detail: made.length ? undefined : 'No new assets', link };
				toasts.show({ tone: 'success', ...said });
				notices.offer(task, said, Math.min(...batch.map((sibling) => Date.parse(sibling.created_at))));
				return;
			}
			const said = { title: `${task.title} finished`, detail: resultSummary(task) ?? undefined, link: resultLink(task) ?? undefined };
			toasts.show({ tone: 'success', ...said });
			notices.offer(task, said, asked);
		} else if (task.status === 'failed') {
			const said = { title: `${task.title} failed`, detail: task.error?.message ?? 'It stopped with an error.' };
			toasts.show({ tone: 'error', ...said, hint: task.error?.hint ?? undefined });
			notices.offer(task, said, asked);
		}
	}

	/** The runs queued together with `task` (a batch: `params.batch` = [n, of]), itself included; null if alone. */
	#batchOf(task: Task): Task[] | null {
		const place = task.params?.['batch'];
		if (task.kind !== 'scene.run' || !Array.isArray(place) || place.length !== 2) return null;
		const of = Number(place[1]);
		const made = Date.parse(task.created_at);
		const siblings = [...this.byId.values()].filter((other) => {
			const at = other.params?.['batch'];
			return (
				other.kind === 'scene.run' &&
				other.params?.['scene_id'] === task.params?.['scene_id'] &&
				Array.isArray(at) &&
				Number(at[1]) === of &&
				Math.abs(Date.parse(other.created_at) - made) < 5_000
			);
		});
		return siblings.length === of ? siblings : null; // not all known here: one toast each, as before
	}

	#tick(): void {
		this.now = Date.now();
		// 'closed': the server ended the session (the socket's 4401); the REST API would only answer 401.
		const streamDown = (events.status === 'connecting' || events.status === 'idle') && server.status === 'online';
		if (streamDown && this.userId && this.now - this.#sinceRest >= POLL_MS) void this.refresh();
	}

	#reset(userId: string | null): void {
		this.userId = userId;
		this.byId.clear();
		this.cancelling.clear();
		this.fresh.clear();
		this.#stamps.clear();
		this.lanes = [];
		this.order = [];
	}
}

/** What a finished task made, when no link says it: an export's file name, "No new assets". */
export function resultSummary(task: Task): string | null {
	const result = task.result ?? {};
	if (Array.isArray(result['assets']) && result['assets'].length === 0) return 'No new assets';
	return typeof result['name'] === 'string' ? result['name'] : null;
}

/** Where a finished task's result is: its file to download, or the project its new assets went to ("2 assets"). */
export function resultLink(task: Task): { label: string; href: string; download?: boolean } | null {
	const result = task.result ?? {};
	if (typeof result['download'] === 'string') return { label: 'Download', href: result['download'], download: true };
	const assets = result['assets'];
	if (Array.isArray(assets) && assets.length && task.project_id) {
		const label = assets.length === 1 ? '1 asset' : `${assets.length} assets`;
		return { label, href: `/projects/${encodeURIComponent(task.project_id)}` };
	}
	return null;
}

export const tasks = new TaskStore();
