/** The audit log, as administrators read it (`/api/v1/admin/audit`): filtered pages and the same list as a download. */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type AuditEntry = components['schemas']['AuditEntryOut'];

/** What the list is narrowed to; empty strings are no filter. `from` and `to` are dates (YYYY-MM-DD, local). */
export interface AuditFilter {
	action: string;
	by: string;
	target: string;
	q: string;
	from: string;
	to: string;
}

export const NO_FILTER: AuditFilter = { action: '', by: '', target: '', q: '', from: '', to: '' };

/** The action filter's choices: families (every action of one kind) and the most asked single actions. */
export const ACTION_CHOICES: readonly { value: string; label: string }[] = [
	{ value: '', label: 'Everything' },
	{ value: 'auth', label: 'Sign-ins and sign-outs' },
	{ value: 'auth.login_failed', label: 'Failed logins' },
	{ value: 'user', label: 'People (accounts)' },
	{ value: 'settings', label: 'Server settings' },
	{ value: 'workspace', label: 'Workspace members' },
	{ value: 'project', label: 'Projects' },
	{ value: 'token', label: 'API tokens' },
	{ value: 'invite', label: 'Invitation links' },
	{ value: 'model', label: 'Models' },
	{ value: 'webhook', label: 'Webhooks' },
	{ value: 'backup', label: 'Backups and restores' },
	{ value: 'workflow', label: 'Workflows' }
];

const ACTION_LABELS: Record<string, string> = {
	'auth.login': 'Logged in',
	'auth.login_failed': 'Failed login',
	'auth.logout': 'Logged out',
	'token.create': 'Made an API token',
	'token.revoke': 'Revoked an API token',
	'user.create': 'Account created',
	'user.disable': 'Account disabled',
	'user.enable': 'Account enabled',
	'user.admin_grant': 'Made administrator',
	'user.admin_revoke': 'No longer administrator',
	'user.password_reset': 'Password reset',
	'user.password_change': 'Changed their password',
	'user.delete': 'Account deleted',
	'user.expire': 'Idle guest removed',
	'workspace.create': 'Workspace created',
	'workspace.rename': 'Workspace renamed',
	'workspace.default_role': 'Workspace default role changed',
	'user.export': 'Personal data exported',
	'workspace.member_add': 'Added to a workspace',
	'workspace.member_role': 'Workspace role changed',
	'workspace.member_remove': 'Removed from a workspace',
	'project.role': 'Project role changed',
	'project.trash': 'Project moved to the trash',
	'project.restore': 'Project restored',
	'project.purge': 'Project removed from the trash for good',
	'project.export': 'Project exported',
	'project.import': 'Project imported',
	'project.transfer': 'Project handed on',
	'settings.access': 'Who the studio is for changed',
	'settings.quotas': 'Quotas changed',
	'settings.retention': 'Retention changed',
	'model.add': 'Model added',
	'model.remove': 'Model removed',
	'model.download': 'Model download started',
	'invite.create': 'Invitation link made',
	'invite.revoke': 'Invitation link withdrawn',
	'webhook.create': 'Webhook made',
	'webhook.remove': 'Webhook removed',
	'backup.create': 'Backup taken',
	'backup.restore': 'Restored from a backup',
	'workflow.save': 'Workflow saved',
	'workflow.rename': 'Workflow renamed',
	'workflow.delete': 'Workflow deleted',
	'workflow.import': 'Workflow read from a file'
};

export function actionLabel(action: string): string {
	return ACTION_LABELS[action] ?? action;
}

/** A day's start (or, for `to`, the next day's start) in the browser's time zone, as the server reads it. */
function dayBound(day: string, next = false): string | undefined {
	if (!day) return undefined;
	const at = new Date(`${day}T00:00:00`);
	if (Number.isNaN(at.getTime())) return undefined;
	if (next) at.setDate(at.getDate() + 1);
	return at.toISOString();
}

function query(filter: AuditFilter) {
	return {
		action: filter.action ? [filter.action] : undefined,
		by: filter.by.trim() || undefined,
		target: filter.target.trim() || undefined,
		q: filter.q.trim() || undefined,
		from: dayBound(filter.from),
		to: dayBound(filter.to, true)
	};
}

export function listAudit(filter: AuditFilter, cursor?: string | null): Promise<Result<{ items: AuditEntry[]; next_cursor?: string | null }>> {
	return settle(api.GET('/api/v1/admin/audit', { params: { query: { ...query(filter), cursor: cursor ?? undefined } }, cache: 'no-store' }));
}

/** The address of the filtered list as a CSV or JSON file (a plain link: the browser saves it as it streams). */
export function auditDownloadUrl(filter: AuditFilter, format: 'csv' | 'json'): string {
	const params = new URLSearchParams({ format });
	for (const [key, value] of Object.entries(query(filter))) {
		if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
		else if (value) params.set(key, value);
	}
	return `/api/v1/admin/audit/export?${params}`;
}

function words(key: string): string {
	return key.replaceAll('_', ' ');
}

function shown(value: unknown): string {
	if (value === true) return 'yes';
	if (value === false) return 'no';
	if (value === null || value === undefined) return 'none';
	if (Array.isArray(value)) return value.map(shown).join(', ');
	if (typeof value === 'object') {
		return Object.entries(value as Record<string, unknown>).map(([k, v]) => `${words(k)} ${shown(v)}`).join(', ');
	}
	return String(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The details as one short line people read: "via: invite · is admin: no"; a change with `before` and `after`
 * names only what changed: "guests enabled: yes → no".
 */
export function detailsLine(details: Record<string, unknown>): string {
	const { before, after, ...rest } = details;
	const parts: string[] = [];
	if (isRecord(after)) {
		const was = isRecord(before) ? before : null;
		for (const [key, value] of Object.entries(after)) {
			if (was && JSON.stringify(was[key]) === JSON.stringify(value)) continue;
			parts.push(was ? `${words(key)}: ${shown(was[key])} → ${shown(value)}` : `${words(key)}: ${shown(value)}`);
		}
	}
	for (const [key, value] of Object.entries(rest)) {
		if (value === null || value === undefined || value === '') continue;
		parts.push(`${words(key)}: ${shown(value)}`);
	}
	return parts.join(' · ');
}
