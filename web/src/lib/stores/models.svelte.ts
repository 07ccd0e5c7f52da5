/**
 * The models installed on the server (`GET /api/v1/models`), the device generation runs on and the
 * CPU warning, and, for administrators, adding one: a folder on the server is registered at once, a
 * Hugging Face repo is downloaded as a task (in the task tray); the list reloads when it is done.
 */
import { addModel, fetchModels, type Model } from '$lib/api/engine';
import type { Problem } from '$lib/api/problem';
import type { Task } from '$lib/api/tasks';
import { events } from './events.svelte';

class ModelStore {
	items = $state.raw<Model[]>([]);
	device = $state<string | null>(null);
	warning = $state<string | null>(null);
	howToAdd = $state('');
	loaded = $state(false);
	problem = $state<Problem | null>(null);

	#loading: Promise<void> | null = null;

	constructor() {
		events.on('task.succeeded', (event) => {
			if (event.task.kind === 'models.pull') void this.load();
		});
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

	/** Administrators: a folder on the server (registered now) or a hub repo (a download task). */
	async add(source: { path: string } | { repo: string }): Promise<{ problem: Problem | null; task: Task | null }> {
		const result = await addModel(source);
		if (!result.ok) return { problem: result.problem, task: null };
		if (result.data.model) await this.load();
		return { problem: null, task: result.data.task ?? null };
	}
}

export const models = new ModelStore();
