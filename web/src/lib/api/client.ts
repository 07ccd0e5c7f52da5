/**
 * The one door to the Mediastudio REST API. Paths and payload types come from `schema.d.ts`,
 * generated from the backend's OpenAPI document (`npm run gen:api`); components and stores call
 * the functions below instead of building URLs themselves.
 */
import createClient from 'openapi-fetch';
import type { components, paths } from './schema';

export type Health = components['schemas']['Health'];

/** Same-origin client: the studio is served by `mediastudio serve`, or proxied by `vite dev`. */
export const api = createClient<paths>({ baseUrl: '' });

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
