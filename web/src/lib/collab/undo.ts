/**
 * Undo and redo of this user's own edits to a scene graph: a Y.UndoManager over the scene's nodes
 * (with their positions, parameters and texts) and edges that tracks only transactions of origin
 * `LOCAL`, so what others change at the same time is never undone, and an undo never overwrites a
 * field someone else changed since.
 *
 * One step is one gesture: edits of the same field (typing, a slider, arrow-key moves of the same
 * nodes) within `CAPTURE_MS` of each other join one step; an edit of something else starts a new
 * one; a drag is one step however long it pauses (`hold` … `release`).
 */
import * as Y from 'yjs';
import { edgesOf, groupsOf, LOCAL, nodesOf } from './model';

/** What the canvas needs of a scene's history (the toolbar's buttons, the shortcuts, a drag). */
export interface EditHistory {
	readonly canUndo: boolean;
	readonly canRedo: boolean;
	/** Undoes this user's latest step; answers the nodes it touched (to select them). */
	undo(): string[];
	redo(): string[];
	/** A gesture begins (a drag): everything until `release` is one step. */
	hold(): void;
	release(): void;
}

export interface UndoState {
	canUndo: boolean;
	canRedo: boolean;
}

/** How long after an edit another edit of the same field still joins its step. */
export const CAPTURE_MS = 700;

export class SceneHistory {
	readonly #manager: Y.UndoManager;
	/** What the latest edit changed (a field, a text, a set of nodes moved); null: a one-off edit. */
	#gesture: unknown = null;
	#held = false;

	constructor(doc: Y.Doc, onchange: (state: UndoState) => void) {
		const manager = new Y.UndoManager([nodesOf(doc), edgesOf(doc), groupsOf(doc)], {
			trackedOrigins: new Set([LOCAL]),
			captureTimeout: CAPTURE_MS
		});
		const report = () => onchange({ canUndo: manager.canUndo(), canRedo: manager.canRedo() });
		manager.on('stack-item-added', report);
		manager.on('stack-item-popped', report);
		manager.on('stack-cleared', report);
		this.#manager = manager;
	}

	/**
	 * Called before each local edit with what it changes (any value compared by identity; null for a
	 * one-off edit such as adding a node): an edit of something else than the previous one starts a step.
	 */
	before(gesture: unknown): void {
		if (this.#held) return;
		if (gesture === null || gesture !== this.#gesture) this.#manager.stopCapturing();
		this.#gesture = gesture;
	}

	hold(): void {
		this.#manager.stopCapturing();
		this.#manager.captureTimeout = Number.POSITIVE_INFINITY;
		this.#held = true;
	}

	release(): void {
		if (!this.#held) return;
		this.#held = false;
		this.#manager.captureTimeout = CAPTURE_MS;
		this.#manager.stopCapturing();
		this.#gesture = null;
	}

	undo(): void {
		this.release();
		this.#manager.undo();
		this.#gesture = null;
	}

	redo(): void {
		this.release();
		this.#manager.redo();
		this.#gesture = null;
	}

	destroy(): void {
		this.#manager.destroy();
	}
}
