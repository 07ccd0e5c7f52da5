/** How this server is reached (administrators): its address, HTTPS and the certificate's fingerprint. */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type ServerStatus = components['schemas']['ServerStatus'];

export function fetchServerStatus(): Promise<Result<ServerStatus>> {
	return settle(api.GET('/api/v1/admin/server', { cache: 'no-store' }));
}
