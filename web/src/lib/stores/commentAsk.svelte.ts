/**
 * "Comment" asked for from the canvas's menu: which thread composer to open (a node's, or the scene's) in the
 * Properties Inspector, and a count that changes with each ask so the composer takes the focus again. On a
 * phone the inspector is a tab of its own: the ask shows it.
 */
import { isTabbed, layout } from './layout.svelte';

export type CommentAsk = { kind: 'node'; id: string; sceneId: string } | { kind: 'scene'; id: string };

class CommentAsks {
	current = $state<CommentAsk | null>(null);
	/** Grows with every ask (the same target asked again focuses its composer again). */
	count = $state(0);

	ask(target: CommentAsk): void {
		this.current = target;
		this.count += 1;
		if (isTabbed()) layout.mobileView = 'properties';
	}

	/** Whether the last ask was for this target. */
	isFor(kind: CommentAsk['kind'], id: string): boolean {
		return this.current?.kind === kind && this.current.id === id;
	}

	done(): void {
		this.current = null;
	}
}

export const commentAsks = new CommentAsks();
