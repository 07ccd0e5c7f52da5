import { describe, expect, it } from 'vitest';
import { retryDelay } from './backoff';

describe('retryDelay', () => {
	it('waits longer after each failure, up to half a minute', () => {
		expect([0, 1, 2, 3, 4, 50].map(retryDelay)).toEqual([2_000, 5_000, 10_000, 30_000, 30_000, 30_000]);
	});

	it('treats odd counts as the first retry', () => {
		expect(retryDelay(-3)).toBe(2_000);
		expect(retryDelay(Number.NaN)).toBe(30_000);
	});
});
