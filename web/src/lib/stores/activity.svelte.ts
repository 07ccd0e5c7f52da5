/**
 * The open project's activity: who changed what, newest first, grouped by person, scene and time
 * ("Ana — Opening — 3 changes"). Refreshed when the Activity view opens, and while it is on show
 * whenever the server records new activity (`project.activity`, sent as it writes a scene file) or
 * the project changes (`project.changed`).
 */
import { listActivity, type ActivityEntry, type ActivityPage } from '$lib/api/activity';
import type { Result } from '$lib/api/problem';
import { ProjectView } from './projectView.svelte';

/** Entries of one person in one scene less than this far apart form one group. */
const GROUP_GAP_MS = 10 * 60_000;

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

class ActivityStore extends ProjectView<ActivityPage> {
	items = $state.raw<ActivityEntry[]>([]);
	nextCursor = $state<string | null>(null);

	readonly groups = $derived(groupActivity(this.items));

	constructor() {
		// (Re)connections are the base's: activity may have been recorded while the stream was down.
		super(['project.changed', 'project.activity']);
	}

	protected load(projectId: string): Promise<Result<ActivityPage>> {
		return listActivity(projectId);
	}

	protected clear(): void {
		this.items = [];
		this.nextCursor = null;
	}

	protected take(page: ActivityPage): void {
		this.items = page.items;
		this.nextCursor = page.next_cursor;
	}

	async more(): Promise<void> {
		const [projectId, cursor] = [this.projectId, this.nextCursor];
		if (!projectId || !cursor || this.loading) return;
		this.loading = true;
		const ticket = this.ticket;
		const result = await listActivity(projectId, cursor);
		if (ticket !== this.ticket) return;
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
