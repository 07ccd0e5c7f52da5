/** Projects: the gallery's listing and filters, templates, creation, bulk actions, export and import. */
import { api, CSRF_COOKIE, readCookie } from './client';
import { problemFrom, settle, UNREACHABLE, type Problem, type Result } from './problem';
import type { components } from './schema';

export type Project = components['schemas']['ProjectOut'];
export type ProjectDetail = components['schemas']['ProjectDetail'];
export type ProjectPatch = components['schemas']['ProjectPatch'];
export type ProjectRole = NonNullable<Project['role']>;
export type Contributor = components['schemas']['MemberUser'];
export type Template = components['schemas']['TemplateOut'];
export type TagCount = components['schemas']['TagCount'];
export type BulkAction = components['schemas']['BulkAction']['action'];
export type ProjectSort = 'updated' | 'name' | 'created';

/** Which shelf of the gallery: the projects in use, the archived ones, or the trash. */
export type Shelf = 'active' | 'archived' | 'trash';

export interface ProjectQuery {
	workspace?: string;
	q?: string;
	tag?: string;
	owner?: string;
	shelf: Shelf;
	sort: ProjectSort;
	limit?: number;
	cursor?: string | null;
}

export interface ProjectPage {
	items: Project[];
	next_cursor: string | null;
}

/** One line of a bulk answer: each project succeeds or fails on its own. */
export interface BulkResult {
	id: string;
	ok: boolean;
	detail: string | null;
}

function path(projectId: string) {
	return { params: { path: { project_id: projectId } } };
}

export async function listProjects(query: ProjectQuery, signal?: AbortSignal): Promise<Result<ProjectPage>> {
	const { shelf, cursor, ...rest } = query;
	const result = await settle<{ items: Project[]; next_cursor?: string | null }>(
		api.GET('/api/v1/projects', {
			params: {
				query: {
					...rest,
					q: rest.q || undefined,
					tag: rest.tag || undefined,
					owner: rest.owner || undefined,
					archived: shelf === 'archived',
					trashed: shelf === 'trash' || undefined,
					cursor: cursor ?? undefined
				}
			},
			cache: 'no-store',
			signal
		})
	);
	return result.ok ? { ok: true, data: { items: result.data.items, next_cursor: result.data.next_cursor ?? null } } : result;
}

export function fetchProject(projectId: string): Promise<Result<ProjectDetail>> {
	return settle(api.GET('/api/v1/projects/{project_id}', { ...path(projectId), cache: 'no-store' }));
}

export type TemplateId = components['schemas']['ProjectCreate']['template'];

/** `model`: an installed model for the template's model nodes; its generators take the settings that suit it. */
export function createProject(name: string, template: TemplateId, workspaceId?: string, model?: string | null): Promise<Result<Project>> {
	return settle(api.POST('/api/v1/projects', { body: { name, template, workspace_id: workspaceId ?? null, model: model ?? null } }));
}

export function updateProject(projectId: string, body: ProjectPatch): Promise<Result<Project>> {
	return settle(api.PATCH('/api/v1/projects/{project_id}', { ...path(projectId), body }));
}

/** Moves the project to the trash, where it can be restored for 30 days. */
export function trashProject(projectId: string): Promise<Result<void>> {
	return settle(api.DELETE('/api/v1/projects/{project_id}', path(projectId)));
}

export function restoreProject(projectId: string): Promise<Result<Project>> {
	return settle(api.POST('/api/v1/projects/{project_id}/restore', path(projectId)));
}

export async function listTemplates(): Promise<Result<Template[]>> {
	return settle<Template[]>(api.GET('/api/v1/projects/templates'));
}

export async function listTags(): Promise<Result<TagCount[]>> {
	return settle<TagCount[]>(api.GET('/api/v1/projects/tags', { cache: 'no-store' }));
}

/** Archive, unarchive, delete or restore many projects; each one succeeds or fails on its own. */
export async function bulkProjects(action: Exclude<BulkAction, 'export'>, ids: string[]): Promise<Result<BulkResult[]>> {
	const result = await settle<{ results: BulkResult[] }>(api.POST('/api/v1/projects/bulk', { body: { action, ids } }));
	return result.ok ? { ok: true, data: result.data.results } : result;
}

/** The address of a project's .msproj download (a plain GET: the browser streams it to disk). */
export function exportUrl(projectId: string): string {
	return `/api/v1/projects/${encodeURIComponent(projectId)}/export`;
}

/** Several projects as one zip of .msproj files: a POST, so the answer comes back as a blob to save. */
export async function exportProjects(ids: string[]): Promise<Result<{ blob: Blob; filename: string }>> {
	let response: Response;
	try {
		response = await fetch('/api/v1/projects/bulk', {
			method: 'POST',
			headers: { 'Content-Type': 'application/json', ...csrfHeaders() },
			body: JSON.stringify({ action: 'export', ids })
		});
	} catch {
		return { ok: false, problem: UNREACHABLE };
	}
	if (!response.ok) return { ok: false, problem: await problemOf(response) };
	const filename = filenameOf(response.headers.get('Content-Disposition')) ?? 'mediastudio-projects.zip';
	return { ok: true, data: { blob: await response.blob(), filename } };
}

/**
 * Uploads a .msproj file (raw body) and answers the project it became. XMLHttpRequest rather than
 * fetch: only it reports upload progress. `onprogress` gets a fraction from 0 to 1.
 */
export function importProject(
	file: File,
	workspaceId: string | undefined,
	onprogress: (fraction: number) => void
): Promise<Result<Project>> {
	return new Promise((resolve) => {
		const xhr = new XMLHttpRequest();
		const query = workspaceId ? `?workspace_id=${encodeURIComponent(workspaceId)}` : '';
		xhr.open('POST', `/api/v1/projects/import${query}`);
		xhr.setRequestHeader('Content-Type', 'application/zip');
		xhr.setRequestHeader('Accept', 'application/json');
		for (const [name, value] of Object.entries(csrfHeaders())) xhr.setRequestHeader(name, value);
		xhr.upload.onprogress = (event) => {
			if (event.lengthComputable && event.total > 0) onprogress(event.loaded / event.total);
		};
		xhr.onerror = () => resolve({ ok: false, problem: UNREACHABLE });
		xhr.onload = () => {
			const body = parseJson(xhr.responseText);
			if (xhr.status === 201 || xhr.status === 200) resolve({ ok: true, data: body as Project });
			else resolve({ ok: false, problem: problemFrom(body, xhr.status, xhr.statusText, xhr.getResponseHeader('Retry-After')) });
		};
		xhr.send(file);
	});
}

function csrfHeaders(): Record<string, string> {
	const token = readCookie(CSRF_COOKIE);
	return token ? { 'X-CSRF-Token': token } : {};
}

function parseJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

async function problemOf(response: Response): Promise<Problem> {
	const body = parseJson(await response.text());
	return problemFrom(body, response.status, response.statusText, response.headers.get('Retry-After'));
}

/** The file name of a Content-Disposition header (RFC 6266: `filename*` first, then `filename`). */
export function filenameOf(header: string | null): string | null {
	if (!header) return null;
	const extended = /filename\*\s*=\s*[^']*''([^;]+)/i.exec(header);
	if (extended?.[1]) {
		try {
			return decodeURIComponent(extended[1].trim());
		} catch {
			// fall through to the plain parameter
		}
	}
	const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header);
	return plain?.[1]?.trim() ?? null;
}
