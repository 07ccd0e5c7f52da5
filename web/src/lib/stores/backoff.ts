/** How long to wait before trying again after `attempt` failures in a row (0: the first retry): soon at
 * first, then less and less often, never more than half a minute apart. */
const RETRY_DELAYS_MS = [2_000, 5_000, 10_000, 30_000];

export function retryDelay(attempt: number): number {
	const index = Math.min(Math.max(0, Math.floor(attempt)), RETRY_DELAYS_MS.length - 1);
	return RETRY_DELAYS_MS[index] ?? 30_000;
}
