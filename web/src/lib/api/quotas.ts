/** Quotas: each role's limits as administrators set them, and the caller's own limits with what they use of them. */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Quotas = components['schemas']['QuotasOut'];
export type RoleQuota = components['schemas']['RoleQuotaOut'];
export type QuotasPatch = components['schemas']['QuotasPatch'];
export type RoleQuotaPatch = components['schemas']['RoleQuotaPatch'];
export type MyQuotas = components['schemas']['MyQuotas'];

export function fetchMyQuotas(): Promise<Result<MyQuotas>> {
	return settle(api.GET('/api/v1/auth/me/quotas', { cache: 'no-store' }));
}

export function fetchQuotas(): Promise<Result<Quotas>> {
	return settle(api.GET('/api/v1/admin/quotas', { cache: 'no-store' }));
}

export function updateQuotas(body: QuotasPatch): Promise<Result<Quotas>> {
	return settle(api.PATCH('/api/v1/admin/quotas', { body }));
}
