/**
 * Where a visitor may be: the first-run setup while no account exists, the login page while
 * nobody is logged in, the studio otherwise. Pure, so the rules read in one place.
 */
import type { AuthConfig, User } from '$lib/api/auth';

export interface GateState {
	config: AuthConfig;
	user: User | null;
	signedOut: boolean;
}

/** Pages anyone may see while logged out. */
const PUBLIC = new Set(['/login', '/register']);

/** A `next` parameter is followed only to a path of this studio (never `//host` or `https:`). */
export function safeNext(next: string | null): string | null {
	return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : null;
}

export function loginUrl(url: URL, signedOut: boolean): string {
	const here = url.pathname + url.search;
	return signedOut || url.pathname === '/' ? '/login' : `/login?next=${encodeURIComponent(here)}`;
}

/** The address to go to instead of `url`, or null to stay. */
export function redirectFor(url: URL, { config, user, signedOut }: GateState): string | null {
	const path = url.pathname;
	const next = safeNext(url.searchParams.get('next'));
	if (config.setup_required && !user) return path === '/setup' ? null : '/setup';
	if (path === '/setup') return user ? '/' : '/login';
	if (!user) return PUBLIC.has(path) ? null : loginUrl(url, signedOut);
	if (path === '/login') return next ?? '/';
	if (path === '/register' && !user.is_guest) return next ?? '/';
	if ((path === '/admin' || path.startsWith('/admin/')) && !user.is_admin) return '/';
	return null;
}
