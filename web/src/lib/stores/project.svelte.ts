/**
 * The project open in the studio: its detail (scenes and their shots), the scene shown in the
 * Scene View with its node graph, and saving that graph when nodes move. Real-time collaboration
 * (a Yjs document per scene) replaces the plain REST save later; the store's surface stays.
 */
import type { Problem, Result } from '$lib/api/problem';
import { fetchProject, type ProjectDetail } from '$lib/api/projects';
import * as scenes from '$lib/api/scenes';
import type { Graph, GraphNode, Scene } from '$lib/api/scenes';

const SAVE_DELAY_MS = 500;

export type SaveState = 'saved' | 'saving' | 'unsaved' | 'failed';

class ProjectStore {
	id = $state<string | null>(null);
	detail = $state<ProjectDetail | null>(null);
	problem = $state<Problem | null>(null);
	loading = $state(false);

	/** The scene asked for by the address; the first one when none is. */
	requestedSceneId = $state<string | null>(null);
	/** The graph of `graphSceneId`, as last loaded or saved; node moves patch it in place. */
	graph = $state.raw<Graph | null>(null);
	graphSceneId = $state<string | null>(null);
	graphProblem = $state<Problem | null>(null);
	/** Bumped whenever the canvas must rebuild from `graph` (another scene, a reload, a restore). */
	graphRevision = $state(0);
	saveState = $state<SaveState>('saved');
	saveProblem = $state<Problem | null>(null);
	/** The shot (output node) picked in the Project Browser, to select on the canvas. */
	focus = $state<{ sceneId: string; nodeId: string } | null>(null);

	#saveTimer: ReturnType<typeof setTimeout> | undefined;
	#graphController: AbortController | null = null;

	readonly role = $derived(this.detail?.role ?? null);
	readonly canEdit = $derived(this.role === 'owner' || this.role === 'editor');
	readonly scenes = $derived([...(this.detail?.scenes ?? [])].sort((a, b) => a.order - b.order));
	readonly scene = $derived<Scene | null>(
		this.scenes.find((s) => s.id === this.requestedSceneId) ?? this.scenes[0] ?? null
	);
	readonly focusNodeId = $derived(this.focus && this.focus.sceneId === this.scene?.id ? this.focus.nodeId : null);

	/** Opens project `id` (a no-op when it is open already). */
	open(id: string): void {
		if (id === this.id) return;
		void this.flush();
		this.id = id;
		this.detail = null;
		this.problem = null;
		this.graph = null;
		this.graphSceneId = null;
		this.focus = null;
		void this.reload();
	}

	close(): void {
		void this.flush();
		this.id = null;
		this.detail = null;
		this.graph = null;
		this.graphSceneId = null;
	}

	async reload(): Promise<void> {
		const id = this.id;
		if (!id) return;
		this.loading = true;
		const result = await fetchProject(id);
		if (id !== this.id) return;
		this.loading = false;
		if (result.ok) {
			this.detail = result.data;
			this.problem = null;
		} else this.problem = result.problem;
	}

	/** Loads the graph of the scene on show, unless it is the one loaded (`force` after a restore). */
	async showGraph(sceneId: string, force = false): Promise<void> {
		const projectId = this.id;
		if (!projectId || (!force && sceneId === this.graphSceneId && this.graph)) return;
		await this.flush();
		this.#graphController?.abort();
		const controller = (this.#graphController = new AbortController());
		this.graphSceneId = sceneId;
		this.graphProblem = null;
		if (!force) this.graph = null;
		let result: Awaited<ReturnType<typeof scenes.fetchGraph>>;
		try {
			result = await scenes.fetchGraph(projectId, sceneId, controller.signal);
		} catch {
			return; // another scene was asked for meanwhile
		}
		if (result.ok) {
			this.graph = result.data;
			this.graphRevision += 1;
			this.saveState = 'saved';
		} else this.graphProblem = result.problem;
	}

	/** Nodes moved on the canvas: patched into the graph at once, saved once the user pauses. */
	moveNodes(positions: Record<string, { x: number; y: number }>): void {
		if (!this.graph || !this.canEdit) return;
		let changed = false;
		for (const [nodeId, position] of Object.entries(positions)) {
			const node = this.graph.nodes[nodeId];
			if (!node || (node.position.x === position.x && node.position.y === position.y)) continue;
			node.position = { x: Math.round(position.x), y: Math.round(position.y) };
			changed = true;
		}
		if (!changed) return;
		this.saveState = 'unsaved';
		clearTimeout(this.#saveTimer);
		this.#saveTimer = setTimeout(() => void this.flush(), SAVE_DELAY_MS);
	}

	/** Adds a node to the scene on show (an asset dropped on the canvas) and saves at once; answers its id. */
	addNode(node: GraphNode): string | null {
		if (!this.graph || !this.canEdit) return null;
		let id = '';
		do id = `n_${Math.random().toString(16).slice(2, 10)}`;
		while (this.graph.nodes[id]);
		this.graph.nodes[id] = { ...node, position: { x: Math.round(node.position.x), y: Math.round(node.position.y) } };
		this.saveState = 'unsaved';
		void this.flush();
		return id;
	}

	/** Saves a pending graph change now (before another scene or project opens). */
	async flush(): Promise<void> {
		clearTimeout(this.#saveTimer);
		if (this.saveState !== 'unsaved' && this.saveState !== 'failed') return;
		const [projectId, sceneId, graph] = [this.id, this.graphSceneId, this.graph];
		if (!projectId || !sceneId || !graph) return;
		this.saveState = 'saving';
		const result = await scenes.saveGraph(projectId, sceneId, graph);
		if (result.ok) {
			// Moved again while saving: that move has its own save scheduled.
			if (this.saveState === 'saving') this.saveState = 'saved';
			this.saveProblem = null;
			void this.reload(); // its time of change (and the history that follows it)
		} else {
			this.saveState = 'failed';
			this.saveProblem = result.problem;
		}
	}

	// Scene actions answer what the caller shows (a problem, or null / the scene); the tree reloads from the server.

	async createScene(name: string): Promise<Result<Scene>> {
		if (!this.id) return { ok: false, problem: notOpen() };
		const result = await scenes.createScene(this.id, name);
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
		if (sceneId === this.graphSceneId) {
			this.graph = null;
			this.graphSceneId = null;
		}
		await this.reload();
		return null;
	}

	/** After a version was restored: everything on show may have changed. */
	async reloadAll(): Promise<void> {
		await this.reload();
		const sceneId = this.scene?.id;
		if (sceneId) await this.showGraph(sceneId, true);
	}
}

function notOpen(): Problem {
	return { status: 0, title: 'No project', detail: 'No project is open.' };
}

export const project = new ProjectStore();
