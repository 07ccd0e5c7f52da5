/**
 * The models installed on the server (`GET /api/v1/models`), the device generation runs on and the
 * CPU warning, the catalog of recommended models with each one's state here, and which projects used
 * each model. Administrators add a folder on the server (registered at once), download a catalog entry
 * or a Hugging Face repo (a task: its live progress is in the tasks store) and remove models; the lists
 * reload when a download starts or ends.
 */
import { addModel, fetchModels, type Model } from '$lib/api/engine';
import { downloadCatalogModel, fetchCatalog, fetchUsage, removeModel, type CatalogItem, type ModelUsage } from '$lib/api/models';
import type { Problem } from '$lib/api/problem';
import type { Task } from '$lib/api/tasks';
import { events } from './events.svelte';
import { tasks } from './tasks.svelte';

const PULL = 'models.pull';

class ModelStore {
	items = $state.raw<Model[]>([]);
	device = $state<string | null>(null);
	warning = $state<string | null>(null);
	howToAdd = $state('');
	loaded = $state(false);
	problem = $state<Problem | null>(null);

	/** The catalog, once asked for (`loadCatalog`). */
	catalog = $state.raw<CatalogItem[]>([]);
	catalogLoaded = $state(false);
	catalogProblem = $state<Problem | null>(null);
	freeBytes = $state<number | null>(null);
	marginBytes = $state(0);
	offlineHint = $state('');
	/** Model name → the projects (that this person may open) whose generated assets it made. */
	usage = $state.raw<Record<string, ModelUsage['projects']>>({});

	#loading: Promise<void> | null = null;

	constructor() {
		events.on('task.succeeded', (event) => {
			if (event.task.kind !== PULL) return;
			void this.load();
			if (this.catalogLoaded) void this.loadCatalog();
		});
		for (const name of ['task.queued', 'task.failed', 'task.cancelled'] as const) {
			events.on(name, (event) => {
				if (event.task.kind === PULL && this.catalogLoaded) void this.loadCatalog();
			});
		}
	}

	/** Loads the list unless it is known. */
	ensure(): Promise<void> {
		return this.loaded ? Promise.resolve() : this.load();
	}

	load(): Promise<void> {
		this.#loading ??= (async () => {
			const result = await fetchModels();
			if (!result.ok) {
				this.problem = result.problem;
				return;
			}
			this.problem = null;
			this.items = result.data.items;
			this.device = result.data.device;
			this.warning = result.data.warning ?? null;
			this.howToAdd = result.data.how_to_add;
			this.loaded = true;
		})().finally(() => (this.#loading = null));
		return this.#loading;
	}

	async loadCatalog(): Promise<void> {
		const result = await fetchCatalog();
		if (!result.ok) {
			this.catalogProblem = result.problem;
			return;
		}
		this.catalogProblem = null;
		this.catalog = result.data.items;
		this.freeBytes = result.data.free_bytes;
		this.marginBytes = result.data.margin_bytes;
		this.offlineHint = result.data.offline_hint;
		this.catalogLoaded = true;
		for (const item of result.data.items) if (item.task) tasks.put(item.task, false);
	}

	async loadUsage(): Promise<void> {
		const result = await fetchUsage();
		if (!result.ok) return;
		this.usage = Object.fromEntries(result.data.items.map((u) => [u.model, u.projects]));
	}

	/** Administrators: a folder on the server (registered now) or a hub repo (a download task). */
	async add(
		source: { path: string; name?: string } | { repo: string }
	): Promise<{ problem: Problem | null; task: Task | null; model: Model | null }> {
		const result = await addModel(source);
		if (!result.ok) return { problem: result.problem, task: null, model: null };
		if (result.data.model) await this.load();
		if (result.data.task) tasks.put(result.data.task, false);
		return { problem: null, task: result.data.task ?? null, model: result.data.model ?? null };
	}

	/** Administrators: downloads a catalog entry (or goes on with one that stopped part way). */
	async download(id: string): Promise<Problem | null> {
		const result = await downloadCatalogModel(id);
		if (!result.ok) return result.problem;
		if (result.data.task) tasks.put(result.data.task, false);
		await this.loadCatalog();
		return null;
	}

	async remove(name: string): Promise<Problem | null> {
		const result = await removeModel(name);
		if (!result.ok) return result.problem;
		await Promise.all([this.load(), this.catalogLoaded ? this.loadCatalog() : null]);
		return null;
	}
}

export const models = new ModelStore();
