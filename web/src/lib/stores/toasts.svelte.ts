/**
 * Short notifications in a corner of every page ("Export 'Hero' finished"): announced politely to
 * screen readers, gone after a few seconds unless the pointer or focus rests on them. A toast given a
 * `key` is one notice that changes ("Uploading 5 files… 3 done", then "Uploaded 5 files"): showing
 * another with the same key replaces it in place instead of stacking a second one.
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
	/** One notice that changes: a later toast with this key replaces this one. */
	key?: string;
	/** Stays until replaced or dismissed (a notice of work still going on). */
	sticky?: boolean;
}

const SHOW_MS = 6_000;
const MAX_SHOWN = 4;

class ToastStore {
	items = $state<Toast[]>([]);

	#next = 1;
	#timers = new Map<number, ReturnType<typeof setTimeout>>();

	show(toast: Omit<Toast, 'id'>): number {
		const same = toast.key === undefined ? undefined : this.items.find((item) => item.key === toast.key);
		const id = same?.id ?? this.#next++;
		this.items = same
			? this.items.map((item) => (item.id === id ? { ...toast, id } : item))
			: [...this.items, { ...toast, id }].slice(-MAX_SHOWN);
		if (toast.sticky) {
			clearTimeout(this.#timers.get(id));
			this.#timers.delete(id);
		} else this.#schedule(id, toast.tone === 'error' ? SHOW_MS * 1.5 : SHOW_MS);
		return id;
	}

	dismiss(id: number): void {
		clearTimeout(this.#timers.get(id));
		this.#timers.delete(id);
		this.items = this.items.filter((t) => t.id !== id);
	}

	/** Dismisses the toast of this key, if one shows. */
	dismissKey(key: string): void {
		const shown = this.items.find((item) => item.key === key);
		if (shown) this.dismiss(shown.id);
	}

	/** While the pointer or keyboard focus is on a toast it stays; it leaves a while after. */
	hold(id: number, held: boolean): void {
		clearTimeout(this.#timers.get(id));
		if (held || this.items.find((item) => item.id === id)?.sticky) this.#timers.delete(id);
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
