/** Webhooks: URLs that receive signed JSON when tasks change, their recent deliveries, test pings. */
import { api } from './client';
import { settle, type Problem, type Result } from './problem';
import type { components } from './schema';

export type Webhook = components['schemas']['WebhookOut'];
export type WebhookInput = components['schemas']['WebhookIn'];
export type WebhookDelivery = components['schemas']['DeliveryOut'];
/** The answer to a creation: the only time the signing secret is sent. */
export type WebhookCreated = Webhook & { secret: string };
export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** The header each delivery carries: `sha256=` and the hex HMAC-SHA256 of the raw body with the secret. */
export const SIGNATURE_HEADER = 'X-Mediastudio-Signature';

/** The events a webhook can hear: a task's, in the order it lives through them, then the comments'. */
export const WEBHOOK_EVENTS = [
	{ value: 'task.queued', help: 'a task enters the queue' },
	{ value: 'task.started', help: 'a worker starts it' },
	{ value: 'task.succeeded', help: 'it finished with its results' },
	{ value: 'task.failed', help: 'it stopped on an error' },
	{ value: 'task.cancelled', help: 'someone cancelled it' },
	{ value: 'comment.created', help: 'someone comments or replies' },
	{ value: 'comment.updated', help: 'a comment is edited' },
	{ value: 'comment.deleted', help: 'a comment is deleted' },
	{ value: 'comment.resolved', help: 'a thread is resolved' },
	{ value: 'comment.reopened', help: 'a resolved thread is reopened' }
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number]['value'];
export const DEFAULT_EVENTS: WebhookEvent[] = ['task.succeeded', 'task.failed', 'task.cancelled'];

/** A refusal of a creation, with the form field it is about (`url`, `events`) when the server names one. */
export type CreateResult = { ok: true; data: WebhookCreated } | { ok: false; problem: Problem; field: string | null };

function path(webhookId: string) {
	return { params: { path: { webhook_id: webhookId } } };
}

export async function listWebhooks(): Promise<Result<Webhook[]>> {
	const result = await settle<{ items: Webhook[] }>(api.GET('/api/v1/webhooks', { cache: 'no-store' }));
	return result.ok ? { ok: true, data: result.data.items } : result;
}

export async function createWebhook(body: WebhookInput): Promise<CreateResult> {
	let field: string | null = null;
	const call = api.POST('/api/v1/webhooks', { body }).then((answer) => {
		const error: unknown = answer.error;
		if (typeof error === 'object' && error !== null && 'field' in error && typeof error.field === 'string') field = error.field;
		return answer;
	});
	const result = await settle<WebhookCreated>(call);
	return result.ok ? result : { ...result, field };
}

export function deleteWebhook(webhookId: string): Promise<Result<void>> {
	return settle(api.DELETE('/api/v1/webhooks/{webhook_id}', path(webhookId)));
}

/** The webhook's deliveries, newest first. */
export async function listDeliveries(webhookId: string, limit = 20): Promise<Result<WebhookDelivery[]>> {
	const result = await settle<{ items: WebhookDelivery[] }>(
		api.GET('/api/v1/webhooks/{webhook_id}/deliveries', {
			params: { path: { webhook_id: webhookId }, query: { limit } },
			cache: 'no-store'
		})
	);
	return result.ok ? { ok: true, data: result.data.items } : result;
}

/** Queues a "ping" delivery, sent at once; the answer is that delivery, still pending. */
export function pingWebhook(webhookId: string): Promise<Result<WebhookDelivery>> {
	return settle(api.POST('/api/v1/webhooks/{webhook_id}/ping', path(webhookId)));
}
