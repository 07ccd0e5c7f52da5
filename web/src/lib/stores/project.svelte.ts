/**
 * The project open in the studio: its detail (scenes and their shots), the scene shown in the
 * Scene View as a live document (`SceneDoc`: Yjs, synced with everyone in the scene and kept on
 * this device), what is selected on its canvas, and "Save version". The detail reloads when the
 * server says the project changed (`project.changed`), so scenes others add or rename show at once.
 */
import { saveVersion, type SavedVersion } from '$lib/api/activity';
import type { Problem, Result } from '$lib/api/problem';
import { fetchProject, type ProjectDetail } from '$lib/api/projects';
import * as scenes from '$lib/api/scenes';
import type { Graph, GraphNode, Scene } from '$lib/api/scenes';
import { SceneDoc } from '$lib/collab/sceneDoc.svelte';
import { events } from './events.svelte';
import { session } from './session.svelte';

export interface Selection {
	nodes: string[];
	edges: string[];
}

const NOTHING: Selection = { nodes: [], edges: [] };

class ProjectStore {
	id = $state<string | null>(null);
	detail = $state<ProjectDetail | null>(null);
	problem = $state<Problem | null>(null);
	loading = $state(false);

	/** The scene asked for by the address; the first one when none is. */
	requestedSceneId = $state<string | null>(null);
	/** The live graph of the scene on show. */
	doc = $state.raw<SceneDoc | null>(null);
	/** What is selected on the canvas (the Properties Inspector shows the first node). */
	selection = $state.raw<Selection>(NOTHING);
	/** The shot (output node) picked in the Project Browser or an activity entry, to select on the canvas. */
	focus = $state<{ sceneId: string; nodeId: string } | null>(null);

	#reloads = 0;

	readonly role = $derived(this.detail?.role ?? null);
	readonly canEdit = $derived(this.role === 'owner' || this.role === 'editor');
	readonly scenes = $derived([...(this.detail?.scenes ?? [])].sort((a, b) => a.order - b.order));
	readonly scene = $derived<Scene | null>(
		this.scenes.find((s) => s.id === this.requestedSceneId) ?? this.scenes[0] ?? null
	);
	readonly focusNodeId = $derived(this.focus && this.focus.sceneId === this.scene?.id ? this.focus.nodeId : null);

	constructor() {
		// Someone (or this user elsewhere) changed the project: scenes added, renamed, removed, saved.
		events.on('project.changed', (event) => {
			if (event.project_id === this.id) void this.reload();
		});
		events.on('hello', () => void this.reload()); // (re)connected: events may have been missed
	}

	/** Opens project `id` (a no-op when it is open already). */
	open(id: string): void {
		if (id === this.id) return;
		this.#closeScene();
		this.id = id;
		this.detail = null;
		this.problem = null;
		this.focus = null;
		void this.reload();
	}

	close(): void {
		this.#closeScene();
		this.id = null;
		this.detail = null;
	}

	async reload(): Promise<void> {
		const id = this.id;
		if (!id) return;
		const ticket = ++this.#reloads;
		this.loading = true;
		const result = await fetchProject(id);
		if (id !== this.id || ticket !== this.#reloads) return; // another project, or a newer reload
		this.loading = false;
		if (result.ok) {
			this.detail = result.data;
			this.problem = null;
		} else this.problem = result.problem;
	}

	/** Shows scene `sceneId` in the Scene View: joins its room (leaving the previous scene's). */
	showScene(sceneId: string): void {
		const projectId = this.id;
		const userId = session.user?.id;
		if (!projectId || !userId || this.doc?.sceneId === sceneId) return;
		this.#closeScene();
		this.doc = new SceneDoc({ projectId, sceneId, userId, canEdit: () => this.canEdit });
	}

	#closeScene(): void {
		this.doc?.destroy();
		this.doc = null;
		this.selection = NOTHING;
	}

	select(selection: Selection): void {
		const same = (a: string[], b: string[]) => a.length === b.length && a.every((id, i) => id === b[i]);
		if (same(selection.nodes, this.selection.nodes) && same(selection.edges, this.selection.edges)) return;
		this.selection = selection;
		this.doc?.setPresence({ selection });
	}

	/** Adds a node to the scene on show (an asset dropped on the canvas); answers its id. */
	addNode(node: GraphNode): string | null {
		return this.canEdit ? (this.doc?.addNode(node) ?? null) : null;
	}

	/** "Save version": writes and commits every open scene of the project now. */
	async saveVersion(message?: string): Promise<Result<SavedVersion>> {
		if (!this.id) return { ok: false, problem: notOpen() };
		return saveVersion(this.id, message);
	}

	// Scene actions answer what the caller shows (a problem, or null / the scene); the tree reloads from the server.

	async createScene(name: string, graph?: Graph): Promise<Result<Scene>> {
		if (!this.id) return { ok: false, problem: notOpen() };
		const result = await scenes.createScene(this.id, name, graph);
		if (result.ok) await this.reload();
		return result;
	}

	async renameScene(sceneId: string, name: string): Promise<Problem | null> {
		if (!this.id) return notOpen();
		const result = await scenes.updateScene(this.id, sceneId, { name });
		if (!result.ok) return result.problem;
		await this.reload();
		return null;
	}

	async moveScene(sceneId: string, order: number): Promise<Problem | null> {
		if (!this.id) return notOpen();
		const result = await scenes.updateScene(this.id, sceneId, { order });
		if (!result.ok) return result.problem;
		await this.reload();
		return null;
	}

	async duplicateScene(sceneId: string): Promise<Result<Scene>> {
		if (!this.id) return { ok: false, problem: notOpen() };
		const result = await scenes.duplicateScene(this.id, sceneId);
		if (result.ok) await this.reload();
		return result;
	}

	async deleteScene(sceneId: string): Promise<Problem | null> {
		if (!this.id) return notOpen();
		const result = await scenes.deleteScene(this.id, sceneId);
		if (!result.ok) return result.problem;
		if (sceneId === this.doc?.sceneId) this.#closeScene();
		await this.reload();
		return null;
	}

	/** After a version was restored: the scene list may have changed (open scenes follow live). */
	async reloadAll(): Promise<void> {
		await this.reload();
	}
}

function notOpen(): Problem {
	return { status: 0, title: 'No project', detail: 'No project is open.' };
}

export const project = new ProjectStore();
