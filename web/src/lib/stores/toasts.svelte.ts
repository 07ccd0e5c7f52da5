/**
 * Short notifications in a corner of every page ("Export 'Hero' finished"): announced politely to
 * screen readers, gone after a few seconds unless the pointer or focus rests on them.
 */

export type ToastTone = 'success' | 'error' | 'info';

export interface ToastLink {
	label: string;
	href: string;
	/** Saves the target instead of opening it (a download). */
	download?: boolean;
}

export interface Toast {
	id: number;
	tone: ToastTone;
	title: string;
	detail?: string;
	hint?: string;
	link?: ToastLink;
}

const SHOW_MS = 6_000;
const MAX_SHOWN = 4;

class ToastStore {
	items = $state<Toast[]>([]);

	#next = 1;
	#timers = new Map<number, ReturnType<typeof setTimeout>>();

	show(toast: Omit<Toast, 'id'>): number {
		const id = this.#next++;
		this.items = [...this.items, { ...toast, id }].slice(-MAX_SHOWN);
		this.#schedule(id, toast.tone === 'error' ? SHOW_MS * 1.5 : SHOW_MS);
		return id;
	}

	dismiss(id: number): void {
		clearTimeout(this.#timers.get(id));
		this.#timers.delete(id);
		this.items = this.items.filter((t) => t.id !== id);
	}

	/** While the pointer or keyboard focus is on a toast it stays; it leaves a while after. */
	hold(id: number, held: boolean): void {
		clearTimeout(this.#timers.get(id));
		if (held) this.#timers.delete(id);
		else this.#schedule(id, SHOW_MS / 2);
	}

	#schedule(id: number, ms: number): void {
		clearTimeout(this.#timers.get(id));
		this.#timers.set(
			id,
			setTimeout(() => this.dismiss(id), ms)
		);
	}
}

export const toasts = new ToastStore();
