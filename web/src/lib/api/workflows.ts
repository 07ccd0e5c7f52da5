/** The workflow library of a workspace (reusable graphs), and reading the nodes of a dropped or picked file. */
import { api } from './client';
import { graphBoxOf, isMp4 } from './mp4Graph';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Workflow = components['schemas']['WorkflowOut'];
export type WorkflowWithGraph = components['schemas']['WorkflowWithGraph'];
/** Nodes and their links in the clipboard's format (canvas/clipboard.ts), as the server checked them. */
export type Fragment = components['schemas']['Fragment'];

/** The biggest file the server reads for nodes (a generated PNG of 1024² fits). */
export const MAX_WORKFLOW_FILE = 4 << 20;

const one = (workflowId: string) => ({ params: { path: { workflow_id: workflowId } } });

export async function listWorkflows(workspaceId: string, q = ''): Promise<Result<Workflow[]>> {
	const result = await settle<{ items: Workflow[] }>(
		api.GET('/api/v1/workspaces/{workspace_id}/workflows', {
			params: { path: { workspace_id: workspaceId }, query: q.trim() ? { q: q.trim() } : {} },
			cache: 'no-store'
		})
	);
	return result.ok ? { ok: true, data: result.data.items } : result;
}

export function saveWorkflow(
	workspaceId: string,
	body: { name: string; description: string; graph: Record<string, unknown>; preview: string | null }
): Promise<Result<Workflow>> {
	return settle(api.POST('/api/v1/workspaces/{workspace_id}/workflows', { params: { path: { workspace_id: workspaceId } }, body }));
}

export function fetchWorkflow(workflowId: string): Promise<Result<WorkflowWithGraph>> {
	return settle(api.GET('/api/v1/workflows/{workflow_id}', { ...one(workflowId), cache: 'no-store' }));
}

export function renameWorkflow(workflowId: string, name: string): Promise<Result<Workflow>> {
	return settle(api.PATCH('/api/v1/workflows/{workflow_id}', { ...one(workflowId), body: { name } }));
}

export function deleteWorkflow(workflowId: string): Promise<Result<void>> {
	return settle(api.DELETE('/api/v1/workflows/{workflow_id}', one(workflowId)));
}

export const workflowPreviewUrl = (workflow: Workflow): string | null =>
	workflow.has_preview ? `/api/v1/workflows/${encodeURIComponent(workflow.id)}/preview?v=${encodeURIComponent(workflow.updated_at)}` : null;

export const workflowFileUrl = (workflowId: string): string => `/api/v1/workflows/${encodeURIComponent(workflowId)}/file`;

/** The sidecar of a generated asset: the nodes that made it, as a workflow file. */
export const assetWorkflowUrl = (projectId: string, assetId: string): string =>
	`/api/v1/projects/${encodeURIComponent(projectId)}/assets/${encodeURIComponent(assetId)}/workflow`;

/** The nodes of a file (a workflow's JSON, a PNG or an MP4 the studio generated), checked by the server. */
export async function readWorkflowFile(file: Blob): Promise<Result<Fragment>> {
	if (await isMp4(file)) {
		// A clip the studio made carries its graph in a box of its own: only that box is sent.
		const box = await graphBoxOf(file);
		if (box) file = box;
		else if (file.size > MAX_WORKFLOW_FILE) {
			return {
				ok: false,
				problem: {
					status: 400,
					title: 'No graph',
					detail: 'This clip carries no graph: only clips the studio generated do.',
					hint: "Drop an MP4 from a shot's results, or its workflow's JSON file."
				}
			};
		}
	}
	if (file.size > MAX_WORKFLOW_FILE) {
		return {
			ok: false,
			problem: { status: 413, title: 'Too large', detail: `The file is larger than ${MAX_WORKFLOW_FILE >> 20} MB: it cannot be a workflow.` }
		};
	}
	return settle(
		api.POST('/api/v1/workflows/read', {
			body: file as never,
			bodySerializer: (body: unknown) => body as BodyInit,
			headers: { 'Content-Type': 'application/octet-stream' }
		})
	);
}
