/**
 * Unread comments per asset of the open project, for the badges of the asset browser's tiles: read from the
 * comments' summary (`GET …/comments/summary`), and read again (a quarter of a second after the last of a burst)
 * when a comment on an asset of the project is written, changed, deleted, resolved or reopened by anyone, or
 * when this person read a thread.
 */
import { commentsSummary } from '$lib/api/comments';
import { events } from './events.svelte';

const TYPES = ['comment.created', 'comment.updated', 'comment.deleted', 'comment.resolved', 'comment.reopened'] as const;
const SETTLE_MS = 250;

class CommentCounts {
	/** Asset id → its unread comments (only those with some). */
	unread = $state.raw<Record<string, number>>({});

	#projectId: string | null = null;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#asked = 0;

	/** Follows a project's counts until the answered function is called. */
	watch(projectId: string): () => void {
		this.#projectId = projectId;
		this.unread = {};
		void this.#load();
		const stops = TYPES.map((type) =>
			events.on(type, (event) => {
				if (event.project_id === this.#projectId && event.target_kind === 'asset') this.refresh();
			})
		);
		return () => {
			stops.forEach((stop) => stop());
			clearTimeout(this.#timer);
			if (this.#projectId === projectId) [this.#projectId, this.unread] = [null, {}];
		};
	}

	/** Asks again soon (a burst of changes is one request). */
	refresh(): void {
		clearTimeout(this.#timer);
		this.#timer = setTimeout(() => void this.#load(), SETTLE_MS);
	}

	async #load(): Promise<void> {
		const projectId = this.#projectId;
		if (!projectId) return;
		const asked = ++this.#asked;
		const result = await commentsSummary(projectId);
		if (!result.ok || asked !== this.#asked || projectId !== this.#projectId) return; // a later answer wins
		const counts: Record<string, number> = {};
		for (const target of result.data.targets) {
			if (target.target.kind === 'asset' && target.unread > 0) counts[target.target.id] = (counts[target.target.id] ?? 0) + target.unread;
		}
		this.unread = counts;
	}
}

export const commentCounts = new CommentCounts();
