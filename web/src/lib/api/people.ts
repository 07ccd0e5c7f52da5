/** The people of the server, as administrators manage them (`/api/v1/admin/users`). */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Person = components['schemas']['Person'];
export type NewPerson = components['schemas']['NewPerson'];
export type PersonPatch = components['schemas']['PersonPatch'];

function path(userId: string) {
	return { params: { path: { user_id: userId } } };
}

export function listPeople(q: string, cursor?: string | null): Promise<Result<{ items: Person[]; next_cursor?: string | null }>> {
	return settle(api.GET('/api/v1/admin/users', { params: { query: { q: q || undefined, cursor: cursor ?? undefined } }, cache: 'no-store' }));
}

export function createPerson(body: NewPerson): Promise<Result<Person>> {
	return settle(api.POST('/api/v1/admin/users', { body }));
}

export function updatePerson(userId: string, body: PersonPatch): Promise<Result<Person>> {
	return settle(api.PATCH('/api/v1/admin/users/{user_id}', { ...path(userId), body }));
}

/** A new password for someone: `password` null makes the server make one up, answered once. */
export function resetPassword(userId: string, password: string | null): Promise<Result<{ password?: string | null }>> {
	return settle(api.POST('/api/v1/admin/users/{user_id}/password', { ...path(userId), body: { password } }));
}

/** Deletes someone; their own workspaces go with them, or to `to` with their projects. */
export function deletePerson(userId: string, projects: 'delete' | 'transfer', to?: string): Promise<Result<void>> {
	return settle(api.DELETE('/api/v1/admin/users/{user_id}', { params: { path: { user_id: userId }, query: { projects, to } } }));
}

export type Invite = components['schemas']['InviteOut'];

export async function listInvites(): Promise<Result<Invite[]>> {
	const result = await settle<{ items: Invite[] }>(api.GET('/api/v1/admin/invites', { cache: 'no-store' }));
	return result.ok ? { ok: true, data: result.data.items } : result;
}

/** A new invitation link; its `secret` comes this once. */
export function makeInvite(body: { days: number; uses: number; note: string }): Promise<Result<Invite>> {
	return settle(api.POST('/api/v1/admin/invites', { body }));
}

export function revokeInvite(inviteId: string): Promise<Result<void>> {
	return settle(api.DELETE('/api/v1/admin/invites/{invite_id}', { params: { path: { invite_id: inviteId } } }));
}

/** The link someone registers with. */
export function inviteLink(secret: string, origin = location.origin): string {
	return `${origin}/register?invite=${encodeURIComponent(secret)}`;
}
