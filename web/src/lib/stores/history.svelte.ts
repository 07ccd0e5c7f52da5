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

	/** The version looked at, or null for none. */
	version = $state.raw<ProjectVersion | null>(null);
	versionSha = $state<string | null>(null);
	versionSceneId = $state<string | null>(null);
	versionProblem = $state<Problem | null>(null);

	readonly latestSha = $derived(this.commits[0]?.sha ?? null);
	readonly versionScene = $derived(
		this.version?.scenes.find((s) => s.id === this.versionSceneId) ?? this.version?.scenes[0] ?? null
	);

	/** Loads the first page of `projectId`'s history (again: every change adds a commit). */
	async load(projectId: string): Promise<void> {
		if (projectId !== this.projectId) this.reset(projectId);
		this.loading = true;
		const result = await history.listHistory(projectId);
		if (projectId !== this.projectId) return;
		this.loading = false;
		if (!result.ok) {
			this.problem = result.problem;
			return;
		}
		this.problem = null;
		this.commits = result.data.items;
		this.nextCursor = result.data.next_cursor;
	}

	async loadMore(): Promise<void> {
		const projectId = this.projectId;
		if (!projectId || !this.nextCursor || this.loading) return;
		this.loading = true;
		const result = await history.listHistory(projectId, this.nextCursor);
		if (projectId !== this.projectId) return;
		this.loading = false;
		if (!result.ok) {
			this.problem = result.problem;
			return;
		}
		const known = new Set(this.commits.map((c) => c.sha));
		this.commits = [...this.commits, ...result.data.items.filter((c) => !known.has(c.sha))];
		this.nextCursor = result.data.next_cursor;
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
	}

	/** Back to the current project. */
	leave(): void {
		this.version = null;
		this.versionSha = null;
		this.versionSceneId = null;
		this.versionProblem = null;
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
		this.leave();
	}
}

export const projectHistory = new HistoryStore();
