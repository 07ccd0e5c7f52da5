/**
 * The project gallery of the current workspace: its filters (kept while the studio is open in the
 * same tab, so coming back from a project finds the same view), the pages loaded so far, the tags
 * in use and the selection for bulk actions.
 */
import { SvelteSet } from 'svelte/reactivity';
import type { Problem } from '$lib/api/problem';
import {
	listProjects,
	listTags,
	type Project,
	type ProjectSort,
	type Shelf,
	type TagCount
} from '$lib/api/projects';

export type OwnerFilter = 'anyone' | 'me';

export interface GalleryFilters {
	query: string;
	tag: string;
	owner: OwnerFilter;
	shelf: Shelf;
	sort: ProjectSort;
}

const SEARCH_DELAY_MS = 150;
const PAGE_SIZE = 48;

/** Where a project belongs now: the gallery shows one shelf at a time. */
export function shelfOf(project: Project): Shelf {
	return project.trashed_at ? 'trash' : project.archived ? 'archived' : 'active';
}

class GalleryStore {
	query = $state('');
	tag = $state('');
	owner = $state<OwnerFilter>('anyone');
	shelf = $state<Shelf>('active');
	sort = $state<ProjectSort>('updated');

	items = $state<Project[]>([]);
	nextCursor = $state<string | null>(null);
	/** `loading` only for the first page of a new query; later pages set `loadingMore`. */
	status = $state<'idle' | 'loading' | 'ready' | 'error'>('idle');
	loadingMore = $state(false);
	problem = $state<Problem | null>(null);
	tags = $state<TagCount[]>([]);
	readonly selected = new SvelteSet<string>();

	#workspaceId: string | null = null;
	#userId: string | null = null;
	#controller: AbortController | null = null;
	#timer: ReturnType<typeof setTimeout> | undefined;
	/** The card a shift-click extends the selection from. */
	#anchor: string | null = null;

	readonly filtered = $derived(this.query.trim() !== '' || this.tag !== '' || this.owner !== 'anyone');
	readonly selection = $derived(this.items.filter((project) => this.selected.has(project.id)));
	readonly allSelected = $derived(this.items.length > 0 && this.items.every((p) => this.selected.has(p.id)));

	/** Shows (and refreshes) the gallery of `workspaceId` for `userId`, who "mine" means. */
	connect(workspaceId: string, userId: string): void {
		if (workspaceId !== this.#workspaceId) this.items = [];
		this.#workspaceId = workspaceId;
		this.#userId = userId;
		this.clearSelection();
		void this.load();
		void this.refreshTags();
	}

	/** The search box: asks the server as the user types, once they pause. */
	search(query: string): void {
		this.query = query;
		clearTimeout(this.#timer);
		this.#timer = setTimeout(() => void this.load(), SEARCH_DELAY_MS);
	}

	/** Any other filter: applied at once. Another shelf shows other projects, so the selection ends. */
	filter(patch: Partial<Omit<GalleryFilters, 'query'>>): void {
		if (patch.shelf !== undefined && patch.shelf !== this.shelf) {
			this.clearSelection();
			this.items = []; // another shelf's cards would be clickable while the new ones load
		}
		Object.assign(this, patch);
		void this.load();
	}

	clearFilters(): void {
		this.query = '';
		this.tag = '';
		this.owner = 'anyone';
		void this.load();
	}

	async load(): Promise<void> {
		clearTimeout(this.#timer);
		const answer = await this.#fetch(null);
		if (!answer) return;
		if (!answer.ok) {
			this.status = 'error';
			this.problem = answer.problem;
			return;
		}
		this.items = answer.data.items;
		this.nextCursor = answer.data.next_cursor;
		this.status = 'ready';
		// What the new query hides is no longer selected: bulk actions act on what is seen.
		const visible = new Set(this.items.map((p) => p.id));
		for (const id of [...this.selected]) if (!visible.has(id)) this.selected.delete(id);
	}

	async loadMore(): Promise<void> {
		if (!this.nextCursor || this.loadingMore || this.status !== 'ready') return;
		this.loadingMore = true;
		const answer = await this.#fetch(this.nextCursor);
		this.loadingMore = false;
		if (!answer) return;
		if (!answer.ok) {
			this.problem = answer.problem;
			return;
		}
		const known = new Set(this.items.map((p) => p.id));
		this.items = [...this.items, ...answer.data.items.filter((p) => !known.has(p.id))];
		this.nextCursor = answer.data.next_cursor;
	}

	/** One request at a time: a newer query aborts the one in flight (its answer would be stale). */
	async #fetch(cursor: string | null) {
		if (!this.#workspaceId) return null;
		if (!cursor) {
			this.#controller?.abort();
			this.status = 'loading';
			this.problem = null;
		}
		const controller = cursor ? null : (this.#controller = new AbortController());
		try {
			return await listProjects(
				{
					workspace: this.#workspaceId,
					q: this.query.trim(),
					tag: this.tag,
					owner: this.owner === 'me' ? (this.#userId ?? undefined) : undefined,
					shelf: this.shelf,
					sort: this.sort,
					limit: PAGE_SIZE,
					cursor
				},
				controller?.signal
			);
		} catch {
			return null; // aborted by a newer query
		}
	}

	async refreshTags(): Promise<void> {
		const result = await listTags();
		if (result.ok) this.tags = result.data;
	}

	/** A checkbox click; with Shift, everything between the last clicked card and this one takes its state. */
	toggle(id: string, range: boolean): void {
		const on = !this.selected.has(id);
		const ids = this.items.map((p) => p.id);
		const from = range && this.#anchor ? ids.indexOf(this.#anchor) : -1;
		const to = ids.indexOf(id);
		if (from >= 0 && to >= 0) {
			for (const between of ids.slice(Math.min(from, to), Math.max(from, to) + 1)) {
				if (on) this.selected.add(between);
				else this.selected.delete(between);
			}
		} else if (on) this.selected.add(id);
		else this.selected.delete(id);
		this.#anchor = id;
	}

	selectAll(): void {
		for (const project of this.items) this.selected.add(project.id);
	}

	clearSelection(): void {
		this.selected.clear();
		this.#anchor = null;
	}

	/** A project that changed (renamed, archived, imported…): updated in place, added, or taken off this shelf. */
	put(project: Project): void {
		const index = this.items.findIndex((p) => p.id === project.id);
		if (shelfOf(project) !== this.shelf) {
			if (index >= 0) this.remove([project.id]);
			return;
		}
		if (index >= 0) this.items[index] = project;
		else this.items = [project, ...this.items];
	}

	remove(ids: string[]): void {
		const gone = new Set(ids);
		this.items = this.items.filter((p) => !gone.has(p.id));
		for (const id of ids) this.selected.delete(id);
	}
}

export const gallery = new GalleryStore();
