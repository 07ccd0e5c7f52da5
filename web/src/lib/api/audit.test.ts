import { describe, expect, it } from 'vitest';
import { NO_FILTER, auditDownloadUrl, detailsLine } from './audit';

describe('detailsLine', () => {
	it('names only what a change changed, before and after', () => {
		const line = detailsLine({
			before: { mode: 'team', registration_open: false, guests_enabled: true },
			after: { mode: 'team', registration_open: false, guests_enabled: false }
		});
		expect(line).toBe('guests enabled: yes → no');
	});

	it('reads nested values and leaves out empty ones', () => {
		expect(detailsLine({ guest: { runs_at_once: 3 }, to: null, via: 'invite' })).toBe('guest: runs at once 3 · via: invite');
	});
});

describe('auditDownloadUrl', () => {
	it('carries the filters the list uses, and nothing empty', () => {
		const url = new URL(auditDownloadUrl({ ...NO_FILTER, action: 'auth.login_failed', by: ' ana ' }, 'csv'), 'http://studio');
		expect(url.pathname).toBe('/api/v1/admin/audit/export');
		expect([...url.searchParams]).toEqual([
			['format', 'csv'],
			['action', 'auth.login_failed'],
			['by', 'ana']
		]);
	});
});
