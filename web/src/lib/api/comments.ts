/** Comment threads on a project's assets, scenes and nodes, and each person's inbox (docs/comments.md). */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Thread = components['schemas']['ThreadOut'];
export type Comment = components['schemas']['CommentOut'];
export type CommentTarget = components['schemas']['Target'];
export type Pin = components['schemas']['Pin'];
export type Threads = components['schemas']['ThreadsOut'];
export type Inbox = components['schemas']['InboxOut'];
export type InboxLine = components['schemas']['NotificationOut'];
export type CommentsSummary = components['schemas']['CommentsSummary'];

const THREAD = '/api/v1/projects/{project_id}/comments/{thread_id}' as const;

export function listThreads(projectId: string, target: CommentTarget): Promise<Result<Threads>> {
	return settle(
		api.GET('/api/v1/projects/{project_id}/comments', {
			params: { path: { project_id: projectId }, query: { target_kind: target.kind, target_id: target.id } },
			cache: 'no-store'
		})
	);
}

/** Per target, its threads, open threads and unread comments (for badges). */
export function commentsSummary(projectId: string): Promise<Result<CommentsSummary>> {
	return settle(api.GET('/api/v1/projects/{project_id}/comments/summary', { params: { path: { project_id: projectId } }, cache: 'no-store' }));
}

export function startThread(projectId: string, target: CommentTarget, body: string, pin: Pin | null): Promise<Result<Thread>> {
	return settle(api.POST('/api/v1/projects/{project_id}/comments', { params: { path: { project_id: projectId } }, body: { target, body, pin } }));
}

export function reply(projectId: string, threadId: string, body: string): Promise<Result<Thread>> {
	return settle(api.POST(`${THREAD}/replies`, { params: { path: { project_id: projectId, thread_id: threadId } }, body: { body } }));
}

export function setResolved(projectId: string, threadId: string, resolved: boolean): Promise<Result<Thread>> {
	return settle(api.PATCH(THREAD, { params: { path: { project_id: projectId, thread_id: threadId } }, body: { resolved } }));
}

export function markThreadRead(projectId: string, threadId: string): Promise<Result<void>> {
	return settle(api.POST(`${THREAD}/read`, { params: { path: { project_id: projectId, thread_id: threadId } } }));
}

export function editComment(projectId: string, threadId: string, commentId: string, body: string): Promise<Result<Thread>> {
	return settle(
		api.PATCH(`${THREAD}/comments/{comment_id}`, {
			params: { path: { project_id: projectId, thread_id: threadId, comment_id: commentId } },
			body: { body }
		})
	);
}

export function deleteComment(projectId: string, threadId: string, commentId: string): Promise<Result<void>> {
	return settle(
		api.DELETE(`${THREAD}/comments/{comment_id}`, {
			params: { path: { project_id: projectId, thread_id: threadId, comment_id: commentId } }
		})
	);
}

export function fetchInbox(): Promise<Result<Inbox>> {
	return settle(api.GET('/api/v1/inbox', { params: { query: { limit: 30 } }, cache: 'no-store' }));
}

export function markInboxRead(ids?: string[]): Promise<Result<{ unread: number }>> {
	return settle(api.POST('/api/v1/inbox/read', { body: { ids: ids ?? null } }));
}

/** A comment's text in pieces: plain text, and `@name`s of the members it mentions (drawn as mentions). */
export function mentionParts(comment: Comment): { text: string; mention: boolean }[] {
	const names = new Set(comment.mentions.map((m) => m.username.toLowerCase()));
	const parts: { text: string; mention: boolean }[] = [];
	const pattern = /(?<![\w@])@([A-Za-z0-9][A-Za-z0-9_.-]{2,31})/g;
	let last = 0;
	for (const match of comment.body.matchAll(pattern)) {
		const name = (match[1] ?? '').replace(/\.$/, '');
		if (!names.has(name.toLowerCase())) continue;
		if (match.index > last) parts.push({ text: comment.body.slice(last, match.index), mention: false });
		parts.push({ text: `@${name}`, mention: true });
		last = match.index + name.length + 1;
	}
	if (last < comment.body.length) parts.push({ text: comment.body.slice(last), mention: false });
	return parts;
}
