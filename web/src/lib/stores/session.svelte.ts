/**
 * Who is using the studio: the server's login policy, the logged-in user, their workspaces and the
 * workspace they work in now (persisted per browser in localStorage `mediastudio.workspace.v1`).
 */
import { CSRF_COOKIE, readCookie, whenUnauthorized } from '$lib/api/client';
import * as auth from '$lib/api/auth';
import type { AuthConfig, Me, User } from '$lib/api/auth';
import { listWorkspaces, type Workspace } from '$lib/api/workspaces';

export const WORKSPACE_STORAGE_KEY = 'mediastudio.workspace.v1';

/** `loading`: not known yet; `ready`: config and user known; `unreachable`: the API cannot be reached. */
export type SessionStatus = 'loading' | 'ready' | 'unreachable';

function loadWorkspaceId(): string | null {
	try {
		return localStorage.getItem(WORKSPACE_STORAGE_KEY);
	} catch {
		return null; // storage disabled: the personal workspace is used
	}
}

/** The personal workspace first, then the team ones in the server's order (oldest first). */
function personalFirst(workspaces: Workspace[]): Workspace[] {
	return [...workspaces].sort((a, b) => Number(b.kind === 'personal') - Number(a.kind === 'personal'));
}

class SessionStore {
	status = $state<SessionStatus>('loading');
	config = $state<AuthConfig | null>(null);
	user = $state<User | null>(null);
	workspaces = $state<Workspace[]>([]);
	/** Set by an explicit log-out, so the login page does not offer to go back where the user was. */
	signedOut = $state(false);
	/** The account was deleted in this tab: the login page says so. */
	accountDeleted = $state(false);
	#workspaceId = $state<string | null>(typeof localStorage === 'undefined' ? null : loadWorkspaceId());
	#loading: Promise<void> | null = null;

	constructor() {
		// A session that ended elsewhere (logged out, password changed, expired): back to the login page.
		whenUnauthorized(() => {
			this.user = null;
			this.workspaces = [];
		});
	}

	/** The workspace chosen in this browser, else the personal one. */
	readonly workspace = $derived(
		this.workspaces.find((w) => w.id === this.#workspaceId) ??
			this.workspaces.find((w) => w.kind === 'personal') ??
			this.workspaces[0] ??
			null
	);

	/** Fetches the login policy and the current user (once at a time). */
	load(): Promise<void> {
		this.#loading ??= this.#load().finally(() => (this.#loading = null));
		return this.#loading;
	}

	async #load(): Promise<void> {
		const config = await auth.fetchAuthConfig();
		if (!config.ok) {
			this.status = 'unreachable';
			return;
		}
		// No CSRF cookie means no session: skip the request that could only answer 401.
		const me = readCookie(CSRF_COOKIE) ? await auth.fetchMe() : null;
		if (me && !me.ok && me.problem.status !== 401) {
			this.status = 'unreachable';
			return;
		}
		this.config = config.data;
		this.user = me?.ok ? me.data.user : null;
		if (this.user) await this.refreshWorkspaces();
		this.status = 'ready';
	}

	/** After setup, registration, login or a guest start: the server answered who we are now. */
	async signedIn(me: Me): Promise<void> {
		this.signedOut = this.accountDeleted = false;
		const config = await auth.fetchAuthConfig();
		if (config.ok) this.config = config.data;
		await this.refreshWorkspaces();
		this.user = me.user;
		this.status = 'ready';
	}

	setUser(user: User): void {
		this.user = user;
	}

	async refreshConfig(): Promise<void> {
		const config = await auth.fetchAuthConfig();
		if (config.ok) this.config = config.data;
	}

	async refreshWorkspaces(): Promise<void> {
		const result = await listWorkspaces();
		if (result.ok) this.workspaces = personalFirst(result.data);
	}

	selectWorkspace(id: string): void {
		this.#workspaceId = id;
		try {
			localStorage.setItem(WORKSPACE_STORAGE_KEY, id);
		} catch {
			// storage full or disabled: the choice holds for this visit
		}
	}

	async logout(): Promise<void> {
		// Before the request: the server closes this session's event stream (4401) while it answers, which
		// ends the session here too, and the login page must not offer to go back where the user was.
		this.signedOut = true;
		await auth.logout();
		this.ended();
	}

	/** The session is over without a logout request: the account was just deleted (the login page says so). */
	ended(deleted = false): void {
		this.accountDeleted = deleted;
		this.signedOut = true;
		this.user = null;
		this.workspaces = [];
	}
}

export const session = new SessionStore();
