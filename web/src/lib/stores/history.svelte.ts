/**
 * The open project's history in the studio: its commits (newest first, a page at a time) and the
 * earlier version being looked at, read-only, with the scene of it on show.
 */
import * as history from '$lib/api/history';
import type { Commit, ProjectVersion } from '$lib/api/history';
import type { Problem } from '$lib/api/problem';

class HistoryStore {
	projectId = $state<string | null>(null);
	commits = $state<Commit[]>([]);
	nextCursor = $state<string | null>(null);
	loading = $state(false);
	problem = $state<Problem | null>(null);
	/** The search the list is filtered by ('' for every version). */
	query = $state('');

	/** The version looked at, or null for none. */
	version = $state.raw<ProjectVersion | null>(null);
	versionSha = $state<string | null>(null);
	versionSceneId = $state<string | null>(null);
	versionProblem = $state<Problem | null>(null);
	/** The node picked on the version's canvas: the inspector shows it, read-only. */
	versionNodeId = $state<string | null>(null);
	/** "Restore this version?" is being asked (from the version bar or the inspector). */
	restoreAsked = $state(false);

	/** The current version (the newest commit), whatever the search shows. */
	latestSha = $state<string | null>(null);
	readonly versionScene = $derived(
		this.version?.scenes.find((s) => s.id === this.versionSceneId) ?? this.version?.scenes[0] ?? null
	);

	/** Loads the first page of `projectId`'s history (again: every change adds a commit). */
	async load(projectId: string): Promise<void> {
		if (projectId !== this.projectId) this.reset(projectId);
		this.loading = true;
		const query = this.query;
		const result = await history.listHistory(projectId, null, 50, query);
		if (projectId !== this.projectId || query !== this.query) return; // searched again meanwhile
		this.loading = false;
		if (!result.ok) {
			this.problem = result.problem;
			return;
		}
		this.problem = null;
		this.commits = result.data.items;
		this.nextCursor = result.data.next_cursor;
		if (!query) this.latestSha = result.data.items[0]?.sha ?? null;
		else await this.loadLatest(projectId);
	}

	private async loadLatest(projectId: string): Promise<void> {
		const newest = await history.listHistory(projectId, null, 1);
		if (newest.ok && projectId === this.projectId) this.latestSha = newest.data.items[0]?.sha ?? null;
	}

	async loadMore(): Promise<void> {
		const projectId = this.projectId;
		if (!projectId || !this.nextCursor || this.loading) return;
		this.loading = true;
		const query = this.query;
		const result = await history.listHistory(projectId, this.nextCursor, 50, query);
		if (projectId !== this.projectId || query !== this.query) return;
		this.loading = false;
		if (!result.ok) {
			this.problem = result.problem;
			return;
		}
		const known = new Set(this.commits.map((c) => c.sha));
		this.commits = [...this.commits, ...result.data.items.filter((c) => !known.has(c.sha))];
		this.nextCursor = result.data.next_cursor;
	}

	/** Filters the list by label, message or author. */
	async search(query: string): Promise<void> {
		if (query === this.query || !this.projectId) return;
		this.query = query;
		this.commits = [];
		this.nextCursor = null;
		await this.load(this.projectId);
	}

	async view(sha: string): Promise<void> {
		const projectId = this.projectId;
		if (!projectId) return;
		this.versionSha = sha;
		this.versionProblem = null;
		const result = await history.fetchVersion(projectId, sha);
		if (sha !== this.versionSha) return; // another version was picked meanwhile
		if (!result.ok) {
			this.version = null;
			this.versionProblem = result.problem;
			return;
		}
		this.version = result.data;
		this.versionSceneId = result.data.scenes[0]?.id ?? null;
		this.versionNodeId = null;
	}

	/** Back to the current project. */
	leave(): void {
		this.version = null;
		this.versionSha = null;
		this.versionSceneId = null;
		this.versionProblem = null;
		this.versionNodeId = null;
		this.restoreAsked = false;
	}

	/** Restores the version looked at: a problem, or null when it is the current content again. */
	async restore(): Promise<Problem | null> {
		const [projectId, sha] = [this.projectId, this.versionSha];
		if (!projectId || !sha) return null;
		const result = await history.restoreVersion(projectId, sha);
		if (!result.ok) return result.problem;
		this.leave();
		await this.load(projectId);
		return null;
	}

	reset(projectId: string | null): void {
		this.projectId = projectId;
		this.commits = [];
		this.nextCursor = null;
		this.problem = null;
		this.query = '';
		this.latestSha = null;
		this.leave();
	}
}

export const projectHistory = new HistoryStore();
