import { describe, expect, it } from 'vitest';
import type { MyQuotas } from './api/quotas';
import { GB, formatMinutes, fromFields, quotaLine, resetsText, toFields } from './quotas';

const guest: MyQuotas = {
	role: 'guest',
	runs: { used: 3, limit: 5 },
	gpu_minutes: { used: 4, limit: 10 },
	storage: { used_bytes: 120 * 1024 ** 2, limit_bytes: 2 * GB },
	resets_at: '2026-12-06T00:00:00Z'
};

describe('quotas as people read them', () => {
	it('says a guest\'s three quotas on one line', () => {
		expect(quotaLine(guest)).toBe('3 of 5 runs queued · 4 of 10 GPU minutes today · 120 MB of 2.0 GB');
	});

	it('says when there is no limit, or no GPU runs at all', () => {
		const user: MyQuotas = {
			...guest,
			role: 'user',
			gpu_minutes: { used: 0.25, limit: null },
			storage: { used_bytes: 0, limit_bytes: null }
		};
		expect(quotaLine(user)).toBe('3 of 5 runs queued · 0.25 GPU minutes today (no limit) · 0 B stored (no limit)');
		expect(quotaLine({ ...guest, gpu_minutes: { used: 0, limit: 0 } })).toContain('no GPU runs');
	});

	it('shows minutes with as few decimals as needed', () => {
		expect([0.02, 0.5, 4, 4.56, 12.5, 250.4].map(formatMinutes)).toEqual(['0.02', '0.5', '4', '4.6', '12.5', '250']);
	});

	it('names the reset in UTC, and in the reader\'s clock when that differs', () => {
		expect(resetsText('2026-12-06T00:00:00Z', 'UTC')).toBe('00:00 UTC');
		expect(resetsText('2026-12-06T00:00:00Z', 'Europe/Berlin')).toBe('00:00 UTC (01:00 your time)');
	});
});

describe('the administrator\'s quota fields', () => {
	it('round-trips a role\'s limits, blank meaning no limit', () => {
		const fields = toFields({ runs_at_once: 5, gpu_minutes_per_day: null, storage_bytes: 2 * GB, updated_at: '' });
		expect(fields).toEqual({ runs: '5', gpuMinutes: '', storageGb: '2' });
		expect(fromFields(fields, 'Guests')).toEqual({
			ok: true,
			patch: { runs_at_once: 5, gpu_minutes_per_day: null, storage_bytes: 2 * GB }
		});
		expect(fromFields({ runs: '3', gpuMinutes: '0', storageGb: '0.5' }, 'Users')).toEqual({
			ok: true,
			patch: { runs_at_once: 3, gpu_minutes_per_day: 0, storage_bytes: GB / 2 }
		});
	});

	it('names the field to fix', () => {
		expect(fromFields({ runs: '1.5', gpuMinutes: '', storageGb: '' }, 'Users')).toEqual({
			ok: false,
			error: 'Users: runs at once needs a whole number, 0 or more.'
		});
		const minutes = fromFields({ runs: '2', gpuMinutes: '-3', storageGb: '' }, 'Guests');
		expect(minutes.ok === false && minutes.error).toMatch(/^Guests: GPU minutes/);
		const storage = fromFields({ runs: '2', gpuMinutes: '', storageGb: 'lots' }, 'Guests');
		expect(storage.ok === false && storage.error).toMatch(/^Guests: storage/);
	});
});
