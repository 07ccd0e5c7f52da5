/**
 * The person's inbox (mentions, replies to their threads): the unread badge in the header and the list
 * it opens. Live: a `notification.created` event for this user reloads it; the event carries the new count.
 */
import { fetchInbox, markInboxRead, type InboxLine } from '$lib/api/comments';
import { events } from './events.svelte';
import { session } from './session.svelte';

class InboxStore {
	items = $state<InboxLine[]>([]);
	unread = $state(0);
	loaded = $state(false);
	#userId: string | null = null;

	constructor() {
		events.on('notification.created', (event) => {
			if (event.audience !== session.user?.id) return; // administrators hear everyone's
			this.unread = event.unread;
			void this.load();
		});
		events.on('hello', () => void this.load());
	}

	/** Loads the inbox of the signed-in person (again, when they changed). */
	async load(): Promise<void> {
		const userId = session.user?.id ?? null;
		this.#userId = userId;
		if (!userId) {
			this.items = [];
			this.unread = 0;
			return;
		}
		const result = await fetchInbox();
		if (!result.ok || this.#userId !== userId) return;
		this.items = result.data.items;
		this.unread = result.data.unread;
		this.loaded = true;
	}

	async markRead(ids?: string[]): Promise<void> {
		const wanted = ids ? new Set(ids) : null;
		this.items = this.items.map((line) => (!wanted || wanted.has(line.id) ? { ...line, read: true } : line));
		const result = await markInboxRead(ids);
		if (result.ok) this.unread = result.data.unread;
	}

	/** A thread was read (its lines are read on the server too). */
	readThread(threadId: string): void {
		const before = this.items.filter((line) => line.thread_id === threadId && !line.read).length;
		if (!before) return;
		this.items = this.items.map((line) => (line.thread_id === threadId ? { ...line, read: true } : line));
		this.unread = Math.max(0, this.unread - before);
	}
}

export const inbox = new InboxStore();
