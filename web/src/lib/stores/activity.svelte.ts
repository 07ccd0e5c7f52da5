/**
 * The open project's activity: who changed what, newest first, grouped by person, scene and time
 * ("Ana — Opening — 3 changes"). Refreshed when the Activity view opens, and while it is on show
 * whenever the server records new activity (`project.activity`, sent as it writes a scene file) or
 * the project changes (`project.changed`).
 */
import { listActivity, type ActivityEntry } from '$lib/api/activity';
import type { Problem } from '$lib/api/problem';
import { events } from './events.svelte';

/** Entries of one person in one scene less than this far apart form one group. */
const GROUP_GAP_MS = 10 * 60_000;
/** Events in a burst (several scenes written at once) make one refresh. */
const SETTLE_MS = 150;

export interface ActivityGroup {
	key: string;
	user: ActivityEntry['user'];
	sceneId: string | null;
	/** Newest first, like the entries. */
	entries: ActivityEntry[];
	/** The newest entry's time. */
	at: string;
}

export function groupActivity(entries: readonly ActivityEntry[]): ActivityGroup[] {
	const groups: ActivityGroup[] = [];
	for (const entry of entries) {
		const last = groups.at(-1);
		const oldest = last?.entries.at(-1);
		const close = oldest && Date.parse(oldest.at) - Date.parse(entry.at) <= GROUP_GAP_MS;
		if (last && close && last.user?.id === entry.user?.id && last.sceneId === entry.scene_id) {
			last.entries.push(entry);
		} else {
			groups.push({ key: String(entry.id), user: entry.user, sceneId: entry.scene_id, entries: [entry], at: entry.at });
		}
	}
	return groups;
}

class ActivityStore {
	projectId = $state<string | null>(null);
	items = $state.raw<ActivityEntry[]>([]);
	nextCursor = $state<string | null>(null);
	loading = $state(false);
	loaded = $state(false);
	problem = $state<Problem | null>(null);
	/** Whether the Activity view is on show (only then do edits schedule a refresh). */
	visible = $state(false);

	readonly groups = $derived(groupActivity(this.items));

	#timer: ReturnType<typeof setTimeout> | undefined;
	#ticket = 0;

	constructor() {
		for (const type of ['project.changed', 'project.activity'] as const) {
			events.on(type, (event) => {
				if (event.project_id !== this.projectId || !this.visible) return;
				clearTimeout(this.#timer);
				this.#timer = setTimeout(() => void this.refresh(), SETTLE_MS);
			});
		}
		// (Re)connected: activity may have been recorded while the stream was down.
		events.on('hello', () => {
			if (this.visible && this.projectId) void this.refresh();
		});
	}

	open(projectId: string | null): void {
		if (projectId === this.projectId) return;
		this.projectId = projectId;
		this.items = [];
		this.nextCursor = null;
		this.loaded = false;
		this.problem = null;
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
		const ticket = ++this.#ticket;
		this.loading = true;
		const result = await listActivity(projectId);
		if (ticket !== this.#ticket) return;
		this.loading = false;
		this.loaded = true;
		if (!result.ok) {
			this.problem = result.problem;
			return;
		}
		this.problem = null;
		this.items = result.data.items;
		this.nextCursor = result.data.next_cursor;
	}

	async more(): Promise<void> {
		const [projectId, cursor] = [this.projectId, this.nextCursor];
		if (!projectId || !cursor || this.loading) return;
		this.loading = true;
		const ticket = this.#ticket;
		const result = await listActivity(projectId, cursor);
		if (ticket !== this.#ticket) return;
		this.loading = false;
		if (!result.ok) {
			this.problem = result.problem;
			return;
		}
		this.items = [...this.items, ...result.data.items];
		this.nextCursor = result.data.next_cursor;
	}
}

export const activity = new ActivityStore();
