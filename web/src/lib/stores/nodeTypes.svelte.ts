/**
 * The node types the server's engine offers (`GET /api/v1/node-types`), fetched once per session:
 * each type's title, category, typed ports and parameter schema. The canvas draws typed nodes from
 * them, the palette lists them, the Properties Inspector builds its controls from them. The last
 * list is kept in this browser, so a studio opened offline still draws and adds typed nodes.
 */
import { fetchNodeTypes, type NodeType } from '$lib/api/engine';
import type { Problem } from '$lib/api/problem';
import { defaultParams, paramSpecs, type ParamSpec } from '$lib/engine/params';
import type { ParamValue } from '$lib/collab/model';
import { events } from './events.svelte';

const STORAGE_KEY = 'mediastudio.node-types.v1';

function stored(): Record<string, NodeType> {
	try {
		const list = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]') as NodeType[];
		return Array.isArray(list) ? Object.fromEntries(list.map((type) => [type.id, type])) : {};
	} catch {
		return {};
	}
}

/** The palette's order of categories; any other comes after, alphabetically. */
const CATEGORY_ORDER = ['Text', 'Values', 'Models', 'Input', 'Generate', 'Image', 'Video', 'Output', 'Other'];

export interface Category {
	name: string;
	types: NodeType[];
}

class NodeTypeStore {
	byId = $state.raw<Record<string, NodeType>>(typeof localStorage === 'undefined' ? {} : stored());
	/** Fetched from the server in this session (until then, `byId` may be the list kept in this browser). */
	loaded = $state(false);
	problem = $state<Problem | null>(null);

	#loading: Promise<void> | null = null;
	#specs = new Map<string, ParamSpec[]>();

	readonly list = $derived(Object.values(this.byId));

	constructor() {
		events.on('hello', () => void this.ensure()); // (re)connected: fetch them if that failed before
	}
	readonly categories = $derived.by((): Category[] => {
		const groups = new Map<string, NodeType[]>();
		for (const type of this.list) groups.set(type.category, [...(groups.get(type.category) ?? []), type]);
		const rank = (name: string) => {
			const at = CATEGORY_ORDER.indexOf(name);
			return at < 0 ? CATEGORY_ORDER.length : at;
		};
		return [...groups.entries()]
			.sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
			.map(([name, types]) => ({ name, types: types.sort((a, b) => a.title.localeCompare(b.title)) }));
	});

	/** Fetches the types unless they are known (again after a failure). */
	ensure(): Promise<void> {
		if (this.loaded) return Promise.resolve();
		this.#loading ??= this.#load().finally(() => (this.#loading = null));
		return this.#loading;
	}

	async #load(): Promise<void> {
		const result = await fetchNodeTypes();
		if (!result.ok) {
			this.problem = result.problem;
			return;
		}
		this.problem = null;
		this.#specs.clear();
		this.byId = Object.fromEntries(result.data.map((type) => [type.id, type]));
		this.loaded = true;
		try {
			localStorage.setItem(STORAGE_KEY, JSON.stringify(result.data));
		} catch {
			// storage full or disabled: fetched again next time
		}
	}

	get(type: string): NodeType | undefined {
		return this.byId[type];
	}

	/** The parameters of a type, in the schema's order (empty for unknown types). */
	specs(type: string): ParamSpec[] {
		let specs = this.#specs.get(type);
		if (!specs) {
			const known = this.byId[type];
			if (!known) return [];
			this.#specs.set(type, (specs = paramSpecs(known.params_schema)));
		}
		return specs;
	}

	defaults(type: string): Record<string, ParamValue> {
		return defaultParams(this.byId[type]?.params_schema);
	}
}

export const nodeTypes = new NodeTypeStore();
