/** Compare takes: 2 to 6 assets of one project side by side, and the parameters that set them apart. */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Comparison = components['schemas']['Comparison'];
export type TakeSummary = components['schemas']['TakeSummary'];
export type Difference = components['schemas']['Difference'];

export const MIN_TAKES = 2;
export const MAX_TAKES = 6;

export function fetchComparison(projectId: string, ids: string[], signal?: AbortSignal): Promise<Result<Comparison>> {
	return settle(
		api.GET('/api/v1/projects/{project_id}/assets/compare', {
			params: { path: { project_id: projectId }, query: { ids: ids.join(',') } },
			cache: 'no-store',
			signal
		})
	);
}

/** The Compare view's address: a stable link (the Board's take strips, the Asset Browser, the Asset View). */
export function compareHref(projectId: string, ids: string[]): string {
	return `/projects/${encodeURIComponent(projectId)}/compare?assets=${ids.map(encodeURIComponent).join(',')}`;
}

/** The ids of `?assets=a,b,c`: distinct, in their order, at most MAX_TAKES. */
export function idsFromQuery(raw: string | null): string[] {
	const ids = (raw ?? '').split(',').map((id) => id.trim()).filter(Boolean);
	return [...new Set(ids)].slice(0, MAX_TAKES);
}

/** A take's letter: A, B, C… */
export function takeLetter(index: number): string {
	return String.fromCharCode(65 + index);
}

/** A parameter's value as a cell shows it. */
export function formatValue(value: unknown): string {
	if (value === null || value === undefined) return '—';
	if (typeof value === 'string') return value === '' ? '(empty)' : value;
	if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(6)));
	return JSON.stringify(value);
}

/** Whether a take's value differs from the first take's (the cells that are highlighted). */
export function differsFromFirst(difference: Difference, index: number): boolean {
	return index > 0 && formatValue(difference.values[index]) !== formatValue(difference.values[0]);
}

/** Whether a take is a moving picture, a still one, or neither. */
export function takeKind(take: TakeSummary): 'image' | 'video' | 'other' {
	const kind = take.asset.mime.split('/')[0];
	return kind === 'image' || kind === 'video' ? kind : 'other';
}
