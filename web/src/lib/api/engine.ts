/**
 * The generation engine as the studio sees it: node types (their ports and parameter schemas),
 * installed models, checking and running a scene's graph, the pictures a run made, regenerating
 * an asset. Scene runs are tasks (`$lib/api/tasks.ts`): they travel in the tasks store like any other.
 */
import { api } from './client';
import { settle, toProblem, UNREACHABLE, type Problem, type Result } from './problem';
import type { components } from './schema';
import type { Task } from './tasks';

export type NodeType = components['schemas']['NodeTypeOut'];
export type Port = components['schemas']['PortOut'];
export type Model = components['schemas']['ModelOut'];
export type Models = components['schemas']['ModelsOut'];
export type ModelAdded = components['schemas']['ModelAdded'];
/** One problem of a graph, on the node (and parameter, or edge) it concerns. */
export type GraphIssue = components['schemas']['IssueOut'];
export type GraphCheck = components['schemas']['CheckOut'];

/** A refused run: the problem to show, and each problem on its node. */
export type RunRefusal = Problem & { issues: GraphIssue[] };

function scenePath(projectId: string, sceneId: string) {
	return { params: { path: { project_id: projectId, scene_id: sceneId } } };
}

export async function fetchNodeTypes(): Promise<Result<NodeType[]>> {
	return settle(api.GET('/api/v1/node-types'));
}

export async function fetchModels(): Promise<Result<Models>> {
	return settle(api.GET('/api/v1/models', { cache: 'no-store' }));
}

/** Administrators: registers a diffusers folder on the server (`path`) or downloads a hub repo (`repo`, a task). */
export function addModel(body: { path?: string; repo?: string; name?: string }): Promise<Result<ModelAdded>> {
	return settle(api.POST('/api/v1/models', { body }));
}

/** Every problem of the scene's graph as it is now (for marking them on the canvas while editing). */
/** The scene's runs, whoever started them (the waiting and running ones, then the newest ended): a run is shared. */
export async function listSceneRuns(projectId: string, sceneId: string): Promise<Result<Task[]>> {
	const result = await settle<{ items: Task[] }>(
		api.GET('/api/v1/projects/{project_id}/scenes/{scene_id}/runs', { ...scenePath(projectId, sceneId), cache: 'no-store' })
	);
	return result.ok ? { ok: true, data: result.data.items } : result;
}

export function checkScene(projectId: string, sceneId: string): Promise<Result<GraphCheck>> {
	return settle(api.POST('/api/v1/projects/{project_id}/scenes/{scene_id}/check', scenePath(projectId, sceneId)));
}

/**
 * Runs the scene's graph as it is now (every shot output, or `outputs`): a task on the GPU lane.
 * A graph that cannot run is refused with its problems, each on the node it concerns.
 */
export async function runGraph(
	projectId: string,
	sceneId: string,
	outputs: string[] | null = null,
	force = false,
	repeat = 1
): Promise<{ ok: true; data: Task[] } | { ok: false; problem: RunRefusal }> {
	try {
		const { data, error, response } =
			repeat > 1
				? await api.POST('/api/v1/projects/{project_id}/scenes/{scene_id}/runs', {
						...scenePath(projectId, sceneId),
						body: { outputs, force, repeat }
					})
				: await api.POST('/api/v1/projects/{project_id}/scenes/{scene_id}/run', {
						...scenePath(projectId, sceneId),
						body: { outputs, force }
					});
		if (response.ok && data) return { ok: true, data: 'items' in data ? data.items : [data] };
		const issues = (error as { issues?: GraphIssue[] } | undefined)?.issues;
		return { ok: false, problem: { ...toProblem(error, response), issues: Array.isArray(issues) ? issues : [] } };
	} catch {
		return { ok: false, problem: { ...UNREACHABLE, issues: [] } };
	}
}

/** Runs the graph that made a generated asset again: the same seed (the same picture), or a new one (a variation). */
export function regenerateAsset(projectId: string, assetId: string, newSeed: boolean): Promise<Result<Task>> {
	return settle(
		api.POST('/api/v1/projects/{project_id}/assets/{asset_id}/regenerate', {
			params: { path: { project_id: projectId, asset_id: assetId } },
			body: { new_seed: newSeed }
		})
	);
}

/** The picture node `nodeId` made in run `taskId` (only its owner may see it); `version` busts the cache. */
export function previewUrl(taskId: string, nodeId: string, version?: string): string {
	const base = `/api/v1/tasks/${encodeURIComponent(taskId)}/previews/${encodeURIComponent(nodeId)}`;
	return version ? `${base}?v=${encodeURIComponent(version)}` : base;
}
