/** A project's assets: listing with filters, detail, edits, trash, and uploads with progress. */
import { api, CSRF_COOKIE, readCookie } from './client';
import { problemFrom, settle, UNREACHABLE, type Result } from './problem';
import type { components } from './schema';

export type Asset = components['schemas']['AssetOut'];
export type AssetDetail = components['schemas']['AssetDetail'];
export type AssetPatch = components['schemas']['AssetPatch'];
export type AssetCategory = 'image' | 'video' | 'audio' | 'model' | 'reference' | 'generated';

/** What the canvas accepts when an asset is dragged onto it. */
export const ASSET_DRAG_TYPE = 'application/x-mediastudio-asset';
export interface AssetDragPayload {
	project_id: string;
	asset_id: string;
	name: string;
	category: string;
	/** What the file is (image/png, video/mp4…): decides the node a drop onto the canvas makes. */
	mime?: string;
}

export interface AssetQuery {
	q?: string;
	category?: AssetCategory | null;
	tag?: string | null;
	trashed?: boolean;
	limit?: number;
	cursor?: string | null;
}

export interface AssetPage {
	items: Asset[];
	next_cursor: string | null;
}

function path(projectId: string, assetId: string) {
	return { params: { path: { project_id: projectId, asset_id: assetId } } };
}

export async function listAssets(projectId: string, query: AssetQuery, signal?: AbortSignal): Promise<Result<AssetPage>> {
	const result = await settle<{ items: Asset[]; next_cursor?: string | null }>(
		api.GET('/api/v1/projects/{project_id}/assets', {
			params: {
				path: { project_id: projectId },
				query: {
					q: query.q?.trim() || undefined,
					category: query.category ?? undefined,
					tag: query.tag || undefined,
					trashed: query.trashed || undefined,
					limit: query.limit,
					cursor: query.cursor ?? undefined
				}
			},
			cache: 'no-store',
			signal
		})
	);
	return result.ok ? { ok: true, data: { items: result.data.items, next_cursor: result.data.next_cursor ?? null } } : result;
}

export function fetchAsset(projectId: string, assetId: string, signal?: AbortSignal): Promise<Result<AssetDetail>> {
	return settle(api.GET('/api/v1/projects/{project_id}/assets/{asset_id}', { ...path(projectId, assetId), cache: 'no-store', signal }));
}

export function updateAsset(projectId: string, assetId: string, body: AssetPatch): Promise<Result<Asset>> {
	return settle(api.PATCH('/api/v1/projects/{project_id}/assets/{asset_id}', { ...path(projectId, assetId), body }));
}

export function downloadUrl(asset: Asset): string {
	return `${asset.content_url}${asset.content_url.includes('?') ? '&' : '?'}download=true`;
}

/** A preview address: `size` 256 (tiles) or 1024 (the Asset View); `strip` for a video's scrub strip. */
export function previewUrl(asset: Asset, size: 256 | 1024 = 256, kind?: 'strip'): string | null {
	if (!asset.preview_url) return null;
	const base = asset.preview_url.split('?')[0];
	return `${base}?size=${size}${kind ? `&kind=${kind}` : ''}`;
}

/** Splits "a, b c" into unique tags. */
export function parseTags(text: string): string[] {
	return [...new Set(text.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean))];
}

export interface UploadHandle {
	promise: Promise<Result<Asset>>;
	abort: () => void;
}

/**
 * Uploads one file (multipart field `file`) and answers the asset it became. XMLHttpRequest rather
 * than fetch: only it reports upload progress. `onprogress` gets a fraction from 0 to 1.
 */
export function uploadAsset(
	projectId: string,
	file: File,
	options: { category?: AssetCategory | null; tags?: string[] },
	onprogress: (fraction: number) => void
): UploadHandle {
	const xhr = new XMLHttpRequest();
	const promise = new Promise<Result<Asset>>((resolve) => {
		const form = new FormData();
		form.append('file', file, file.name);
		if (options.category) form.append('category', options.category);
		if (options.tags?.length) form.append('tags', options.tags.join(','));
		xhr.open('POST', `/api/v1/projects/${encodeURIComponent(projectId)}/assets`);
		xhr.setRequestHeader('Accept', 'application/json');
		const token = readCookie(CSRF_COOKIE);
		if (token) xhr.setRequestHeader('X-CSRF-Token', token);
		xhr.upload.onprogress = (event) => {
			if (event.lengthComputable && event.total > 0) onprogress(event.loaded / event.total);
		};
		xhr.onerror = () => resolve({ ok: false, problem: UNREACHABLE });
		xhr.onabort = () =>
			resolve({ ok: false, problem: { status: 0, title: 'Cancelled', detail: 'The upload was interrupted.', hint: 'Retry to send it again.' } });
		xhr.onload = () => {
			const body = parseJson(xhr.responseText);
			if (xhr.status === 201 || xhr.status === 200) {
				const asset = Array.isArray(body) ? (body[0] as Asset | undefined) : (body as Asset);
				if (asset) resolve({ ok: true, data: asset });
				else resolve({ ok: false, problem: problemFrom(null, xhr.status, xhr.statusText) });
			} else resolve({ ok: false, problem: problemFrom(body, xhr.status, xhr.statusText, xhr.getResponseHeader('Retry-After')) });
		};
		xhr.send(form);
	});
	return { promise, abort: () => xhr.abort() };
}

/**
 * Saves a mask painted over picture `sourceId` (a PNG of its size, white = repaint) as a new asset of the
 * project, tagged `mask`; the server checks it and stores it as greyscale.
 */
export async function saveMask(projectId: string, sourceId: string, png: Blob): Promise<Result<Asset>> {
	const form = new FormData();
	form.append('file', png, 'mask.png');
	const headers: Record<string, string> = { Accept: 'application/json' };
	const token = readCookie(CSRF_COOKIE);
	if (token) headers['X-CSRF-Token'] = token;
	let answer: Response;
	try {
		answer = await fetch(`/api/v1/projects/${encodeURIComponent(projectId)}/assets/${encodeURIComponent(sourceId)}/mask`, {
			method: 'POST',
			body: form,
			headers,
			credentials: 'same-origin'
		});
	} catch {
		return { ok: false, problem: UNREACHABLE };
	}
	const body = parseJson(await answer.text());
	if (answer.status === 201) return { ok: true, data: body as Asset };
	return { ok: false, problem: problemFrom(body, answer.status, answer.statusText, answer.headers.get('Retry-After')) };
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}
