/**
 * The open project's review board (docs/review.md): loaded when the Board view opens and, while it is on show,
 * again whenever a shot changes (`shot.changed`: a status, a pick, an order), a take is made or trashed
 * (`asset.created`, `asset.updated`) or the project changes (`project.changed`: scenes added, renamed, moved;
 * `project.activity`: a canvas edit written to its scene, e.g. a shot added or renamed).
 */
import { changeShot, fetchBoard, moved, reorderShots, type Board, type ShotCard, type ShotPatch } from '$lib/api/board';
import type { Problem, Result } from '$lib/api/problem';
import { ProjectView } from './projectView.svelte';

class BoardStore extends ProjectView<Board> {
	board = $state.raw<Board | null>(null);
	/** What a keyboard move said, for the live region. */
	announcement = $state('');

	constructor() {
		super(['shot.changed', 'asset.created', 'asset.updated', 'project.changed', 'project.activity']);
	}

	protected load(projectId: string): Promise<Result<Board>> {
		return fetchBoard(projectId);
	}

	protected clear(): void {
		this.board = null;
	}

	protected take(board: Board): void {
		this.board = board;
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
