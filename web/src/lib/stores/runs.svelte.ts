/**
 * Running the scene on show, and what its nodes say about it: the problems that keep it from
 * running (checked live on the server a moment after each edit, and those a refused run named),
 * and the state of each node in the scene's latest run (waiting, running with its steps, cached,
 * done, error) with the picture it made. A run is shared: everyone in the project sees it live,
 * whoever started it; only its owner (or an administrator) may cancel it. Runs are tasks: this
 * user's also show in the tray.
 */
import { checkScene, listSceneRuns, previewUrl, runGraph, type GraphIssue, type RunRefusal } from '$lib/api/engine';
import type { GraphEdge } from '$lib/api/scenes';
import { isActive, type Task } from '$lib/api/tasks';
import type { NodeStatus } from '$lib/components/canvas/status';
import { currentRun, settledNodes, showsReceived, waitingAfter, type NodeRun } from '$lib/engine/runState';
import { events } from './events.svelte';
import { session } from './session.svelte';
import { tasks } from './tasks.svelte';
import { toasts } from './toasts.svelte';

/** The check's code for "no model is installed, so nothing can be generated". */
export const NO_MODEL = 'no_model';

/** Debounce of the live check after an edit (the server's room has the edit by then). */
const CHECK_AFTER_MS = 600;

export type { NodeRun, NodeRunState } from '$lib/engine/runState';

interface SceneRef {
	projectId: string;
	sceneId: string;
}

const sameScene = (a: SceneRef | null, b: SceneRef | null) => !!a && !!b && a.projectId === b.projectId && a.sceneId === b.sceneId;

class RunStore {
	/** The scene on show (set by the Scene View). */
	scene = $state.raw<SceneRef | null>(null);
	/** Problems of the graph as it is now, from the server's check. */
	checked = $state.raw<{ scene: SceneRef; issues: GraphIssue[] } | null>(null);
	/** The last run the server refused, until the next check after an edit. */
	refused = $state.raw<{ scene: SceneRef; problem: RunRefusal } | null>(null);
	starting = $state(false);
	/** How many runs the Run button queues (a batch: seeds in 'increment' mode step by one per run). */
	repeat = $state(1);

	#timer: ReturnType<typeof setTimeout> | undefined;
	#ticket = 0;

	constructor() {
		events.on('hello', () => void this.loadRuns()); // reconnected: runs may have started or ended meanwhile
	}

	/** The runs of the scene on show, whoever started them, newest first (a run is shared: everyone in the project
	 * hears its events; the tasks store keeps them, and `show` asks for the scene's recent ones). */
	readonly history = $derived.by((): Task[] => {
		const scene = this.scene;
		if (!scene) return [];
		return [...tasks.byId.values()]
			.filter((task) => task.kind === 'scene.run' && task.project_id === scene.projectId && task.params['scene_id'] === scene.sceneId)
			.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at));
	});
	/** The run every view of the scene follows (runState.ts: the running one of a batch, else the next). */
	readonly task = $derived<Task | null>(currentRun(this.history));
	/** This user's own run of the scene that its views would follow (the guided tour watches it). */
	readonly ownTask = $derived<Task | null>(currentRun(this.history.filter((t) => t.owner_id === tasks.userId)));
	/** Whether this user may cancel that run: theirs, or any for an administrator (the server checks it too). */
	readonly mayCancel = $derived(this.task !== null && (this.task.owner_id === tasks.userId || !!session.user?.is_admin));
	/** Who started that run, when it is someone else (null: this user). */
	readonly startedBy = $derived(
		this.task && this.task.owner_id !== tasks.userId ? (this.task.owner_name ?? 'Someone else') : null
	);
	readonly active = $derived(this.task !== null && isActive(this.task));
	/** Runs of the scene still waiting after the one shown (a batch). */
	readonly waiting = $derived(waitingAfter(this.history, this.task));
	/** Each node's state in that run; an ended run leaves none "waiting" or "running". */
	readonly nodes = $derived.by((): Record<string, NodeRun> => settledNodes(this.task));

	/** Each node's latest picture: from the latest run that made one (a run served from the cache makes none). */
	readonly finished = $derived.by((): Map<string, string> => {
		const found = new Map<string, string>();
		for (const task of this.history) {
			const nodes = (task.detail as { nodes?: Record<string, NodeRun> } | null | undefined)?.nodes ?? {};
			for (const [id, run] of Object.entries(nodes)) if (run.preview && !found.has(id)) found.set(id, previewUrl(task.id, id, run.preview));
		}
		return found;
	});

	/** What each node shows: a running diffusion node what it is making so far (its live preview), else `finished`. */
	readonly pictures = $derived.by((): Map<string, string> => {
		const live = this.active ? Object.entries(this.nodes).filter(([, run]) => run.state === 'running' && run.live) : [];
		if (!live.length) return this.finished;
		const found = new Map(this.finished);
		for (const [id, run] of live) found.set(id, run.live as string);
		return found;
	});

	/** Every problem to show now, by node id (`''`: the graph's own, on no node). */
	readonly issues = $derived.by((): Map<string, GraphIssue[]> => {
		const found = new Map<string, GraphIssue[]>();
		const add = (issue: GraphIssue) => {
			const key = issue.node_id ?? '';
			const list = found.get(key) ?? [];
			if (!list.some((known) => known.message === issue.message)) list.push(issue);
			found.set(key, list);
		};
		if (this.checked && sameScene(this.checked.scene, this.scene)) this.checked.issues.forEach(add);
		if (this.refused && sameScene(this.refused.scene, this.scene)) this.refused.problem.issues.forEach(add);
		return found;
	});

	/** Why the scene cannot run at all, from the check (null: nothing known keeps it from running): with no model
	 * installed, the server's words for this reader (admins: how to add one; others: whom to ask). */
	readonly blocked = $derived.by((): string | null => {
		if (!this.checked || !sameScene(this.checked.scene, this.scene)) return null;
		return this.checked.issues.find((issue) => issue.code === NO_MODEL)?.message ?? null;
	});

	/** Shows scene `sceneId` of project `projectId` (null: none); checks its graph and asks for its runs. */
	show(scene: SceneRef | null): void {
		if (sameScene(scene, this.scene) || (!scene && !this.scene)) return;
		this.scene = scene;
		this.refused = null;
		this.checked = null;
		clearTimeout(this.#timer);
		if (scene) {
			this.edited();
			void this.loadRuns();
		}
	}

	/** The scene's runs as the server has them (others' too), e.g. one already running when the scene opens. */
	async loadRuns(): Promise<void> {
		const scene = this.scene;
		if (!scene) return;
		const result = await listSceneRuns(scene.projectId, scene.sceneId);
		if (!result.ok || !sameScene(scene, this.scene)) return;
		for (const task of result.data) tasks.put(task, false);
	}

	/** The graph changed: check it again once the edits have settled. */
	edited(): void {
		clearTimeout(this.#timer);
		this.#timer = setTimeout(() => void this.check(), CHECK_AFTER_MS);
	}

	async check(): Promise<void> {
		const scene = this.scene;
		if (!scene) return;
		const ticket = ++this.#ticket;
		const result = await checkScene(scene.projectId, scene.sceneId);
		if (ticket !== this.#ticket || !sameScene(scene, this.scene) || !result.ok) return;
		this.checked = { scene, issues: result.data.issues };
		this.refused = null; // the check names every problem of the graph as it is now
	}

	/** Runs the whole scene, or only `outputs` (and what they need). Answers whether it started. */
	async run(outputs: string[] | null = null): Promise<boolean> {
		const scene = this.scene;
		if (!scene || this.starting) return false;
		this.starting = true;
		const result = await runGraph(scene.projectId, scene.sceneId, outputs, false, outputs ? 1 : this.repeat);
		this.starting = false;
		if (result.ok) {
			for (const task of result.data) tasks.put(task, false);
			if (sameScene(scene, this.scene)) this.refused = null;
			return true;
		}
		if (sameScene(scene, this.scene)) this.refused = { scene, problem: result.problem };
		if (result.problem.status !== 422) {
			toasts.show({ tone: 'error', title: 'The scene could not run', detail: result.problem.detail, hint: result.problem.hint });
		}
		return false;
	}

	async cancel(): Promise<void> {
		const task = this.task;
		if (!task || !isActive(task) || !this.mayCancel) return;
		const problem = await tasks.cancel(task.id);
		if (problem) toasts.show({ tone: 'error', title: 'The run could not be cancelled', detail: problem.detail });
	}

	/** The address of the latest picture node `nodeId` made, if it made one. */
	previewOf(nodeId: string): string | null {
		return this.pictures.get(nodeId) ?? null;
	}

	/** The picture a node shows: its own; an output node (a shot, given the graph's `edges`), the one it received,
	 * unless the run did not keep it there (`showsReceived`: a take refused by the quota shows no picture). */
	pictureOf(nodeId: string, edges: Record<string, GraphEdge> | null): string | null {
		const own = this.previewOf(nodeId);
		if (own || !edges || !showsReceived(this.nodes[nodeId])) return own;
		for (const edge of Object.values(edges)) {
			if (edge.target !== nodeId) continue;
			const received = this.finished.get(edge.source); // a shot shows what it got, not work in progress
			if (received) return received;
		}
		return null;
	}

	/** Everything the canvas shows on node `nodeId` beyond the graph (undefined: nothing). */
	statusOf(nodeId: string, edges: Record<string, GraphEdge> | null): NodeStatus | undefined {
		const run = this.nodes[nodeId];
		const problems = (this.issues.get(nodeId) ?? []).map((issue) => issue.message);
		const preview = this.pictureOf(nodeId, edges);
		if (!run && !problems.length && !preview) return undefined;
		return { ...run, preview, problems };
	}
}

export const runs = new RunStore();
