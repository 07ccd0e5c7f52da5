/**
 * Browser notifications when a long task ends while this tab is in the background (see $lib/notices.ts for
 * which ones). Off until the person turns them on (the Progress panel's bell, or the account page), which asks the
 * browser's permission; the choice is kept in this browser. Clicking a notification brings the tab back on what
 * the task made.
 */
import { goto } from '$app/navigation';
import type { Task } from '$lib/api/tasks';
import { noticeFor, type Said } from '$lib/notices';

const KEY = 'mediastudio.notices.v1';

type Permission = NotificationPermission | 'unsupported';

function supported(): boolean {
	return typeof window !== 'undefined' && 'Notification' in window;
}

function load(): boolean {
	try {
		return localStorage.getItem(KEY) === '1';
	} catch {
		return false;
	}
}

class Notices {
	permission = $state<Permission>(supported() ? Notification.permission : 'unsupported');
	wanted = $state(typeof localStorage === 'undefined' ? false : load());
	/** Notifications will be shown. */
	readonly on = $derived(this.wanted && this.permission === 'granted');

	constructor() {
		if (!supported()) return;
		// The person may allow or block them in the browser's site settings at any time.
		const look = () => (this.permission = Notification.permission);
		document.addEventListener('visibilitychange', look);
		window.addEventListener('focus', look);
	}

	/** Turns them on, asking the browser first where it has not been asked. */
	async turnOn(): Promise<void> {
		if (!supported()) return;
		if (Notification.permission === 'default') await Notification.requestPermission();
		this.permission = Notification.permission;
		this.#keep(this.permission === 'granted');
	}

	turnOff(): void {
		this.#keep(false);
	}

	/** Shows the notification `task` deserves, if any: `said` is what its toast says, `askedAt` when it was asked for. */
	offer(task: Task, said: Said, askedAt: number): void {
		if (!supported()) return;
		this.permission = Notification.permission;
		const notice = noticeFor(task, said, { hidden: document.hidden, allowed: this.on, askedAt });
		if (!notice) return;
		try {
			const shown = new Notification(notice.title, { body: notice.body, tag: notice.tag, icon: '/icon-192.png' });
			shown.onclick = () => {
				window.focus();
				if (notice.href) void goto(notice.href);
				shown.close();
			};
		} catch {
			// Some browsers (Android Chrome) show them only through a service worker: the toast still says it.
		}
	}

	#keep(on: boolean): void {
		this.wanted = on;
		try {
			localStorage.setItem(KEY, on ? '1' : '0');
		} catch {
			// storage disabled: for this visit only
		}
	}
}

export const notices = new Notices();
