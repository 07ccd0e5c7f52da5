/**
 * The open project's review board (docs/review.md): loaded when the Board view opens and, while it is on show,
 * again whenever a shot changes (`shot.changed`: a status, a pick, an order), a take is made or trashed
 * (`asset.created`, `asset.updated`) or the project changes (`project.changed`: scenes added, renamed, moved;
 * `project.activity`: a canvas edit written to its scene, e.g. a shot added or renamed).
 */
import { changeShot, fetchBoard, moved, reorderShots, type Board, type ShotCard, type ShotPatch } from '$lib/api/board';
import type { Problem } from '$lib/api/problem';
import { events } from './events.svelte';

/** Events in a burst (a batch of takes) make one refresh. */
const SETTLE_MS = 150;

class BoardStore {
	projectId = $state<string | null>(null);
	board = $state.raw<Board | null>(null);
	loading = $state(false);
	problem = $state<Problem | null>(null);
	visible = $state(false);
	/** What a keyboard move said, for the live region. */
	announcement = $state('');

	#timer: ReturnType<typeof setTimeout> | undefined;
	#ticket = 0;

	constructor() {
		for (const type of ['shot.changed', 'asset.created', 'asset.updated', 'project.changed', 'project.activity'] as const) {
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

	open(projectId: string | null): void {
		if (projectId === this.projectId) return;
		this.projectId = projectId;
		this.board = null;
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
		const result = await fetchBoard(projectId);
		if (ticket !== this.#ticket) return;
		this.loading = false;
		if (!result.ok) {
			this.problem = result.problem;
			return;
		}
		this.problem = null;
		this.board = result.data;
	}

	#replace(updated: ShotCard): void {
		if (!this.board) return;
		this.board = {
			...this.board,
			scenes: this.board.scenes.map((scene) =>
				scene.id !== updated.scene_id
					? scene
					: { ...scene, shots: scene.shots.map((shot) => (shot.node_id === updated.node_id ? updated : shot)) }
			)
		};
	}

	/** Sets a shot's status or picks its take; answers the problem, if any. */
	async change(card: ShotCard, patch: ShotPatch): Promise<Problem | null> {
		const projectId = this.projectId;
		if (!projectId) return null;
		const result = await changeShot(projectId, card.scene_id, card.node_id, patch);
		if (!result.ok) return result.problem;
		this.#replace(result.data);
		return null;
	}

	/** Moves a shot within its scene from place `from` to place `to` (shown at once, sent, undone on a refusal). */
	async move(sceneId: string, from: number, to: number): Promise<Problem | null> {
		const projectId = this.projectId;
		const scene = this.board?.scenes.find((s) => s.id === sceneId);
		if (!projectId || !scene || !this.board || from === to) return null;
		const shots = moved(scene.shots, from, to);
		this.board = { ...this.board, scenes: this.board.scenes.map((s) => (s.id === sceneId ? { ...s, shots } : s)) };
		const result = await reorderShots(projectId, sceneId, shots.map((shot) => shot.node_id));
		if (!result.ok) {
			void this.refresh();
			return result.problem;
		}
		return null;
	}
}

export const board = new BoardStore();
