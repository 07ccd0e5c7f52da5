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

/** A scene's node graph as stored and answered (the server's `graph/model.py`). */
export type Graph = components['schemas']['Graph'];
/** A node of a scene graph. */
export type GraphNode = components['schemas']['GraphNode'];
/** An edge, keyed "source:handle->target:handle" in the graph. */
export type GraphEdge = components['schemas']['GraphEdge'];
/** A group: a titled, coloured frame around nodes (a node joins one by naming it in `group`). */
export type GraphGroup = components['schemas']['GraphGroup'];
/** Where a group's frame lies: its top-left corner and its size. */
export type Bounds = components['schemas']['Bounds'];
/** A graph as a client sends it (what is left out is filled in: a title from the type, position 0,0, …). */
export type GraphIn = components['schemas']['GraphIn'];

function scenePath(projectId: string, sceneId: string) {
	return { params: { path: { project_id: projectId, scene_id: sceneId } } };
}

/** A new scene, empty or with `graph` (a copy of the graph that made an asset). */
export function createScene(projectId: string, name: string, graph?: GraphIn): Promise<Result<SceneDetail>> {
	const body = graph ? { name, graph } : { name };
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
export function fetchGraph(projectId: string, sceneId: string): Promise<Result<Graph>> {
	return settle(api.GET('/api/v1/projects/{project_id}/scenes/{scene_id}/graph', { ...scenePath(projectId, sceneId), cache: 'no-store' }));
}

/** Whether a node is bypassed in a run: by itself, or by its group (the server's `Graph.as_run`). */
export function bypassedInRun(graph: Graph, id: string): boolean {
	const node = graph.nodes[id];
	return node?.bypass === true || (!!node?.group && graph.groups?.[node.group]?.bypass === true);
}

/** Whether two graphs compute the same (node types, parameters, bypass and edges; not titles, positions or frames). */
export function sameWork(a: Graph, b: Graph): boolean {
	const work = (graph: Graph) =>
		JSON.stringify({
			nodes: Object.keys(graph.nodes)
				.sort()
				.map((id) => [id, graph.nodes[id]!.type, sorted(graph.nodes[id]!.params ?? {}), bypassedInRun(graph, id)]),
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
