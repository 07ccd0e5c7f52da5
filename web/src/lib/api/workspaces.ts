/** Workspaces (tenants), their members and roles. */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Workspace = components['schemas']['WorkspaceOut'];
export type WorkspacePatch = components['schemas']['WorkspacePatch'];
export type Member = components['schemas']['MemberOut'];
export type WorkspaceRole = Member['role'];
export type ProjectRole = Workspace['default_project_role'];

export const WORKSPACE_ROLES: readonly WorkspaceRole[] = ['owner', 'admin', 'member'];
export const PROJECT_ROLES: readonly ProjectRole[] = ['owner', 'editor', 'viewer'];

function path(workspaceId: string) {
	return { params: { path: { workspace_id: workspaceId } } };
}

function memberPath(workspaceId: string, userId: string) {
	return { params: { path: { workspace_id: workspaceId, user_id: userId } } };
}

export async function listWorkspaces(): Promise<Result<Workspace[]>> {
	const result = await settle<{ items: Workspace[] }>(api.GET('/api/v1/workspaces', { cache: 'no-store' }));
	return result.ok ? { ok: true, data: result.data.items } : result;
}

export function createWorkspace(name: string): Promise<Result<Workspace>> {
	return settle(api.POST('/api/v1/workspaces', { body: { name } }));
}

export function fetchWorkspace(workspaceId: string): Promise<Result<Workspace>> {
	return settle(api.GET('/api/v1/workspaces/{workspace_id}', { ...path(workspaceId), cache: 'no-store' }));
}

export function updateWorkspace(workspaceId: string, body: WorkspacePatch): Promise<Result<Workspace>> {
	return settle(api.PATCH('/api/v1/workspaces/{workspace_id}', { ...path(workspaceId), body }));
}

export async function listMembers(workspaceId: string): Promise<Result<Member[]>> {
	const result = await settle<{ items: Member[] }>(
		api.GET('/api/v1/workspaces/{workspace_id}/members', { ...path(workspaceId), cache: 'no-store' })
	);
	return result.ok ? { ok: true, data: result.data.items } : result;
}

export function addMember(workspaceId: string, username: string, role: WorkspaceRole): Promise<Result<Member>> {
	return settle(api.POST('/api/v1/workspaces/{workspace_id}/members', { ...path(workspaceId), body: { username, role } }));
}

export function changeMemberRole(workspaceId: string, userId: string, role: WorkspaceRole): Promise<Result<Member>> {
	return settle(
		api.PATCH('/api/v1/workspaces/{workspace_id}/members/{user_id}', { ...memberPath(workspaceId, userId), body: { role } })
	);
}

/** Removes a member; with your own user id, leaves the workspace. */
export function removeMember(workspaceId: string, userId: string): Promise<Result<void>> {
	return settle(api.DELETE('/api/v1/workspaces/{workspace_id}/members/{user_id}', memberPath(workspaceId, userId)));
}

/** Mirrors the server's rule (only owners touch owners; admins manage admins and members), to offer only what will work. */
export function canAssign(actor: WorkspaceRole, from: WorkspaceRole | null, to: WorkspaceRole | null): boolean {
	if (actor === 'owner') return true;
	if (actor === 'admin') return from !== 'owner' && to !== 'owner';
	return false;
}

export function canManage(role: WorkspaceRole): boolean {
	return role === 'owner' || role === 'admin';
}
