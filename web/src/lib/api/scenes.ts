/**
 * Scenes of a project and the shape of their node graphs. The studio edits a scene's graph live
 * through its Yjs document (`$lib/collab/sceneDoc.svelte.ts`), not through the REST graph endpoints.
 */
import { api } from './client';
import { settle, type Result } from './problem';
import type { components } from './schema';

export type Scene = components['schemas']['SceneOut'];
export type SceneDetail = components['schemas']['SceneDetail'];
export type Shot = components['schemas']['Shot'];

/** A node of a scene graph as stored in its scene file (`scenes/<id>.json`; the server's `projects/schemas.py`). */
export type GraphNode = {
	type: string;
	title?: string;
	position: { x: number; y: number };
	params?: Record<string, unknown>;
	bypass?: boolean;
};

/** An edge, keyed "source:handle->target:handle" in the graph. */
export type GraphEdge = {
	source: string;
	source_handle: string;
	target: string;
	target_handle: string;
};

export type Graph = {
	nodes: Record<string, GraphNode>;
	edges: Record<string, GraphEdge>;
};

function scenePath(projectId: string, sceneId: string) {
	return { params: { path: { project_id: projectId, scene_id: sceneId } } };
}

/** The schema types a graph as open objects; the scene file's shape is the one above. */
export function asGraph(value: components['schemas']['GraphOut'] | undefined): Graph {
	return {
		nodes: (value?.nodes ?? {}) as unknown as Record<string, GraphNode>,
		edges: (value?.edges ?? {}) as unknown as Record<string, GraphEdge>
	};
}

/** A new scene, empty or with `graph` (a copy of the graph that made an asset). */
export function createScene(projectId: string, name: string, graph?: Graph): Promise<Result<SceneDetail>> {
	const body = graph ? { name, graph: graph as unknown as components['schemas']['Graph'] } : { name };
	return settle(api.POST('/api/v1/projects/{project_id}/scenes', { params: { path: { project_id: projectId } }, body }));
}

/** Renames a scene, or moves it to `order` (its 0-based new position). */
export function updateScene(projectId: string, sceneId: string, body: { name?: string; order?: number }): Promise<Result<SceneDetail>> {
	return settle(api.PATCH('/api/v1/projects/{project_id}/scenes/{scene_id}', { ...scenePath(projectId, sceneId), body }));
}

export function deleteScene(projectId: string, sceneId: string): Promise<Result<void>> {
	return settle(api.DELETE('/api/v1/projects/{project_id}/scenes/{scene_id}', scenePath(projectId, sceneId)));
}

export function duplicateScene(projectId: string, sceneId: string): Promise<Result<SceneDetail>> {
	return settle(api.POST('/api/v1/projects/{project_id}/scenes/{scene_id}/duplicate', scenePath(projectId, sceneId)));
}

/** A scene's graph as the server has it now. */
export async function fetchGraph(projectId: string, sceneId: string): Promise<Result<Graph>> {
	const result = await settle<components['schemas']['GraphOut']>(
		api.GET('/api/v1/projects/{project_id}/scenes/{scene_id}/graph', { ...scenePath(projectId, sceneId), cache: 'no-store' })
	);
	return result.ok ? { ok: true, data: asGraph(result.data) } : result;
}

/** Whether two graphs compute the same (node types, parameters, bypass and edges; not titles or positions). */
export function sameWork(a: Graph, b: Graph): boolean {
	const work = (graph: Graph) =>
		JSON.stringify({
			nodes: Object.keys(graph.nodes)
				.sort()
				.map((id) => [id, graph.nodes[id]!.type, sorted(graph.nodes[id]!.params ?? {}), graph.nodes[id]!.bypass === true]),
			edges: Object.keys(graph.edges).sort()
		});
	return work(a) === work(b);
}

function sorted(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(sorted);
	if (value && typeof value === 'object') {
		return Object.fromEntries(
			Object.keys(value)
				.sort()
				.map((key) => [key, sorted((value as Record<string, unknown>)[key])])
		);
	}
	return value;
}
