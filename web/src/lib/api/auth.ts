/** Accounts: the server's login policy, first-run setup, sessions, guests, the profile and API tokens. */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type AuthConfig = components['schemas']['AuthConfig'];
export type AuthConfigPatch = components['schemas']['AuthConfigPatch'];
export type Me = components['schemas']['Me'];
export type User = components['schemas']['UserOut'];
/** The first administrator's account, and who the studio is for (`mode`; without it the server's settings decide). */
export type SetupBody = components['schemas']['Setup'];
/** A new account's username, password and display name (setup and registration). */
export type Credentials = Pick<SetupBody, 'username' | 'password' | 'display_name'>;
export type ProfilePatch = components['schemas']['ProfilePatch'];
export type ApiToken = components['schemas']['TokenOut'];
export type ApiTokenCreated = components['schemas']['TokenCreated'];

const JSON_ONLY = { Accept: 'application/json' };

export function fetchAuthConfig(): Promise<Result<AuthConfig>> {
	return settle(api.GET('/api/v1/auth/config', { headers: JSON_ONLY, cache: 'no-store' }));
}

export function updateAuthConfig(body: AuthConfigPatch): Promise<Result<AuthConfig>> {
	return settle(api.PATCH('/api/v1/auth/config', { body }));
}

/** Who the browser's session belongs to; a 401 problem when nobody is logged in. */
export function fetchMe(): Promise<Result<Me>> {
	return settle(api.GET('/api/v1/auth/me', { headers: JSON_ONLY, cache: 'no-store' }));
}

export function setupAdmin(body: SetupBody): Promise<Result<Me>> {
	return settle(api.POST('/api/v1/auth/setup', { body }));
}

/** Creates an account; called by a guest, it turns the guest into that account ("claim"). */
/** Registers; `invite` is the secret of an invitation link, which lets someone register while registration is closed. */
export function register(body: Credentials, invite?: string | null): Promise<Result<Me>> {
	return settle(api.POST('/api/v1/auth/register', { body: { ...body, invite: invite || null } }));
}

/** Whether an invitation link is still valid (a 404 problem when it has expired or been used). */
export function checkInvite(secret: string): Promise<Result<{ expires_at: string }>> {
	return settle(api.GET('/api/v1/auth/invites/{secret}', { params: { path: { secret } }, cache: 'no-store' }));
}

export function login(username: string, password: string): Promise<Result<Me>> {
	return settle(api.POST('/api/v1/auth/login', { body: { username, password } }));
}

export function startGuest(): Promise<Result<Me>> {
	return settle(api.POST('/api/v1/auth/guest'));
}

export function logout(): Promise<Result<void>> {
	return settle(api.POST('/api/v1/auth/logout'));
}

export function updateProfile(body: ProfilePatch): Promise<Result<Me>> {
	return settle(api.PATCH('/api/v1/auth/me', { body }));
}

export async function listTokens(): Promise<Result<ApiToken[]>> {
	const result = await settle<{ items: ApiToken[] }>(api.GET('/api/v1/auth/tokens'));
	return result.ok ? { ok: true, data: result.data.items } : result;
}

/** `expiresInDays: null` makes a token that never expires. The answer holds the secret, once. */
export function createToken(name: string, expiresInDays: number | null): Promise<Result<ApiTokenCreated>> {
	return settle(api.POST('/api/v1/auth/tokens', { body: { name, expires_in_days: expiresInDays } }));
}

export function revokeToken(tokenId: string): Promise<Result<void>> {
	return settle(api.DELETE('/api/v1/auth/tokens/{token_id}', { params: { path: { token_id: tokenId } } }));
}
