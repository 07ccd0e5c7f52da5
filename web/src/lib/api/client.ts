/**
 * The REST client every module in `lib/api/` builds on. Paths and payload types come from
 * `schema.d.ts`, generated from the backend's OpenAPI document (`npm run gen:api`); components and
 * stores call the functions of `auth.ts`, `workspaces.ts` and this file instead of building URLs.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Health = components['schemas']['Health'];

/** The readable cookie holding the session's CSRF token (the session cookie itself is HttpOnly). */
export const CSRF_COOKIE = 'ms_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function readCookie(name: string): string | null {
	if (typeof document === 'undefined') return null;
	for (const part of document.cookie.split(';')) {
		const [key, ...rest] = part.trim().split('=');
		if (key === name) return decodeURIComponent(rest.join('=')) || null;
	}
	return null;
}

/** The server refuses a cookie-authenticated write without the CSRF token echoed in a header. */
const csrfHeader: Middleware = {
	onRequest({ request }) {
		if (SAFE_METHODS.has(request.method)) return undefined;
		const token = readCookie(CSRF_COOKIE);
		if (token) request.headers.set('X-CSRF-Token', token);
		return request;
	}
};

let onUnauthorized: (() => void) | null = null;

/** Calls `handler` when the server answers 401 to anything but a login: the session has ended. */
export function whenUnauthorized(handler: () => void): void {
	onUnauthorized = handler;
}

/** The server said the session is over some other way (the event stream closed with 4401). */
export function sessionEnded(): void {
	onUnauthorized?.();
}

const sessionEnd: Middleware = {
	onResponse({ request, response }) {
		if (response.status === 401 && !request.url.endsWith('/api/v1/auth/login')) onUnauthorized?.();
		return undefined;
	}
};

/** Same-origin client: the studio is served by `mediastudio serve`, or proxied by `vite dev`. */
export const api = createClient<paths>({ baseUrl: '' });
api.use(csrfHeader, sessionEnd);

/**
 * The server's liveness, version and GPU summary, or `null` when the API cannot be reached
 * (offline, server down, a static host without the API). Never throws except on abort.
 */
export async function fetchHealth(signal?: AbortSignal): Promise<Health | null> {
	try {
		const { data, response } = await api.GET('/api/v1/health', {
			signal,
			headers: { Accept: 'application/json' },
			cache: 'no-store'
		});
		if (!response.ok || !isHealth(data)) return null;
		return data;
	} catch (error) {
		if (signal?.aborted) throw error;
		return null;
	}
}

function isHealth(value: unknown): value is Health {
	// A static host may answer /api/* with the SPA's index.html; only a real API body counts.
	return typeof value === 'object' && value !== null && 'version' in value && 'status' in value;
}
