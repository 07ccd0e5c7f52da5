/**
 * Quotas as people read them: "3 of 5 runs queued · 4 of 10 GPU minutes today · 120 MB of 2.0 GB", and the
 * administrator's form fields (a blank field is no limit) turned into what the API takes.
 */
import { formatBytes } from './components/assets/categories';
import type { MyQuotas, RoleQuota, RoleQuotaPatch } from './api/quotas';

export const GB = 1024 ** 3;

/** "4", "4.5", "0.25": minutes with as few decimals as say them. */
export function formatMinutes(minutes: number): string {
	const shown = minutes >= 100 ? minutes.toFixed(0) : minutes >= 1 ? minutes.toFixed(1) : minutes.toFixed(2);
	return shown.includes('.') ? shown.replace(/\.?0+$/, '') : shown;
}

export interface QuotaPart {
	key: 'runs' | 'gpu' | 'storage';
	label: string;
	/** "3 of 5 runs queued" */
	text: string;
	/** How full, 0–1; null when there is no limit. */
	share: number | null;
}

function share(used: number, limit: number | null): number | null {
	if (limit === null) return null;
	return limit > 0 ? Math.min(1, used / limit) : 1;
}

/** Each of a person's three quotas, worded. */
export function quotaParts(q: MyQuotas): QuotaPart[] {
	const runs = q.runs;
	const gpu = q.gpu_minutes;
	const storage = q.storage;
	const gpuText =
		gpu.limit === null
			? `${formatMinutes(gpu.used)} GPU minutes today (no limit)`
			: gpu.limit === 0
				? 'no GPU runs'
				: `${formatMinutes(gpu.used)} of ${formatMinutes(gpu.limit)} GPU minutes today`;
	const storageText =
		storage.limit_bytes === null
			? `${formatBytes(storage.used_bytes)} stored (no limit)`
			: `${formatBytes(storage.used_bytes)} of ${formatBytes(storage.limit_bytes)}`;
	return [
		{ key: 'runs', label: 'Runs', text: `${runs.used} of ${runs.limit} runs queued`, share: share(runs.used, runs.limit) },
		{ key: 'gpu', label: 'GPU time', text: gpuText, share: share(gpu.used, gpu.limit) },
		{ key: 'storage', label: 'Storage', text: storageText, share: share(storage.used_bytes, storage.limit_bytes) }
	];
}

/** The one-line summary: "3 of 5 runs queued · 4 of 10 GPU minutes today · 120 MB of 2.0 GB". */
export function quotaLine(q: MyQuotas): string {
	return quotaParts(q)
		.map((p) => p.text)
		.join(' · ');
}

/** The reset time in the reader's own clock, beside UTC: "00:00 UTC (01:00 your time)". */
export function resetsText(resetsAt: string, timeZone?: string): string {
	const local = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone }).format(
		new Date(resetsAt)
	);
	return local === '00:00' ? '00:00 UTC' : `00:00 UTC (${local} your time)`;
}

/** A role's limits as the form's text fields show them (blank = no limit). */
export interface QuotaFields {
	runs: string;
	gpuMinutes: string;
	storageGb: string;
}

function trimNumber(value: number): string {
	return String(Number(value.toFixed(2)));
}

export function toFields(q: RoleQuota): QuotaFields {
	return {
		runs: String(q.runs_at_once),
		gpuMinutes: q.gpu_minutes_per_day === null ? '' : trimNumber(q.gpu_minutes_per_day),
		storageGb: q.storage_bytes === null ? '' : trimNumber(q.storage_bytes / GB)
	};
}

/** The form's fields as the API takes them, or the sentence that says which field to fix. */
export function fromFields(f: QuotaFields, who: string): { ok: true; patch: RoleQuotaPatch } | { ok: false; error: string } {
	const runs = Number(f.runs.trim());
	if (!f.runs.trim() || !Number.isInteger(runs) || runs < 0)
		return { ok: false, error: `${who}: runs at once needs a whole number, 0 or more.` };
	const minutesText = f.gpuMinutes.trim();
	const minutes = minutesText ? Number(minutesText) : null;
	if (minutes !== null && (!Number.isFinite(minutes) || minutes < 0))
		return { ok: false, error: `${who}: GPU minutes per day is a number of minutes, 0 or more (blank = no limit).` };
	const storageText = f.storageGb.trim();
	const gb = storageText ? Number(storageText) : null;
	if (gb !== null && (!Number.isFinite(gb) || gb < 0))
		return { ok: false, error: `${who}: storage is a number of GB, 0 or more (blank = no limit).` };
	return {
		ok: true,
		patch: { runs_at_once: runs, gpu_minutes_per_day: minutes, storage_bytes: gb === null ? null : Math.round(gb * GB) }
	};
}
