/**
 * The assets of the project open in the studio: the Asset Browser's filters, listing and selection,
 * the asset on show in the Asset View and the Properties Inspector, and the upload queue (one file
 * per request, three at a time, each with its own progress, refusal and retry; one toast for them all).
 */
import * as api from '$lib/api/assets';
import type { Asset, AssetCategory, AssetDetail, AssetPatch } from '$lib/api/assets';
import { UNREACHABLE, type Problem } from '$lib/api/problem';
import { updateProject } from '$lib/api/projects';
import { retryDelay } from './backoff';
import { events, type EventOf } from './events.svelte';
import { layout } from './layout.svelte';
import { session } from './session.svelte';
import { toasts } from './toasts.svelte';
import { UPLOAD_TOAST, uploadNotice } from './uploadNotice';

const PAGE_SIZE = 60;
const PARALLEL_UPLOADS = 3;
const DONE_VISIBLE_MS = 6_000;

export type AssetViewMode = 'grid' | 'list';

export interface AssetUpload {
	id: number;
	name: string;
	size: number;
	/** 0 to 1 while the bytes travel. */
	progress: number;
	state: 'waiting' | 'uploading' | 'processing' | 'done' | 'failed';
	problem?: Problem;
}

interface UploadJob {
	upload: AssetUpload;
	file: File;
	projectId: string;
	category: AssetCategory | null;
	abort?: () => void;
}

class AssetStore {
	projectId = $state<string | null>(null);

	query = $state('');
	category = $state<AssetCategory | null>(null);
	tag = $state<string | null>(null);
	trashed = $state(false);
	view = $state<AssetViewMode>('grid');

	items = $state<Asset[]>([]);
	nextCursor = $state<string | null>(null);
	loading = $state(false);
	loaded = $state(false);
	problem = $state<Problem | null>(null);
	/** Tags seen on this project's assets, for the tag filter. */
	knownTags = $state<string[]>([]);

	/** Selected asset ids, in the order of the list. */
	selected = $state<string[]>([]);
	#anchor: string | null = null;

	/** The asset shown in the Asset View and the Properties Inspector. */
	currentId = $state<string | null>(null);
	detail = $state<AssetDetail | null>(null);
	detailProblem = $state<Problem | null>(null);

	uploads = $state<AssetUpload[]>([]);
	#jobs = new Map<number, UploadJob>();
	#waiting: number[] = [];
	#running = 0;
	#nextUpload = 1;
	/** The uploads the toast counts: every file added while others were still going up. */
	#batch: AssetUpload[] = [];
	#listController: AbortController | null = null;

	readonly current = $derived<Asset | null>(
		this.detail && this.detail.id === this.currentId ? this.detail : (this.items.find((a) => a.id === this.currentId) ?? null)
	);
	#refresh: ReturnType<typeof setTimeout> | undefined;
	#retry: ReturnType<typeof setTimeout> | undefined;
	#retries = 0;

	/** The server answers again (its health came back): a listing it could not give is asked for at once. */
	reconnected(): void {
		if (this.problem?.status !== UNREACHABLE.status) return;
		this.#retries = 0;
		void this.load();
	}

	constructor() {
		// Assets others add or change in the open project appear without a reload (this user's own
		// uploads and edits update the list themselves).
		const follow = (event: EventOf<'asset.created' | 'asset.updated'>) => {
			if (event.project_id !== this.projectId || event.by === session.user?.id) return;
			clearTimeout(this.#refresh);
			this.#refresh = setTimeout(() => void this.load(), 300);
		};
		events.on('asset.created', follow);
		events.on('asset.updated', follow);
		// This user's own runs make assets too (their asset.created events are skipped above, as uploads add themselves).
		events.on('task.succeeded', ({ task }) => {
			const made = task.result?.['assets'];
			if (task.project_id !== this.projectId || task.owner_id !== session.user?.id || !Array.isArray(made) || !made.length) return;
			clearTimeout(this.#refresh);
			this.#refresh = setTimeout(() => void this.load(), 100);
		});
	}
	readonly filtered = $derived(Boolean(this.query.trim() || this.category || this.tag));

	/** Shows project `id`'s assets (a no-op when they are on show already). */
	open(id: string | null): void {
		if (id === this.projectId) return;
		this.projectId = id;
		this.items = [];
		this.selected = [];
		this.currentId = null;
		this.detail = null;
		this.knownTags = [];
		this.loaded = false;
		this.query = '';
		this.category = null;
		this.tag = null;
		this.trashed = false;
		clearTimeout(this.#retry);
		this.#retries = 0;
		this.problem = null;
		if (id) void this.load();
	}

	async load(more = false): Promise<void> {
		const projectId = this.projectId;
		if (!projectId) return;
		this.#listController?.abort();
		const controller = (this.#listController = new AbortController());
		this.loading = true;
		let result: Awaited<ReturnType<typeof api.listAssets>>;
		try {
			result = await api.listAssets(
				projectId,
				{
					q: this.query,
					category: this.category,
					tag: this.tag,
					trashed: this.trashed,
					limit: PAGE_SIZE,
					cursor: more ? this.nextCursor : null
				},
				controller.signal
			);
		} catch {
			return; // superseded by a newer listing
		}
		if (controller !== this.#listController) return;
		this.loading = false;
		this.loaded = true;
		clearTimeout(this.#retry);
		if (!result.ok) {
			this.problem = result.problem;
			// The server could not be reached (offline, restarting): try again, less and less often, until it answers.
			if (result.problem.status === UNREACHABLE.status) this.#retry = setTimeout(() => void this.load(more), retryDelay(this.#retries++));
			return;
		}
		this.#retries = 0;
		this.problem = null;
		this.items = more ? [...this.items, ...result.data.items] : result.data.items;
		this.nextCursor = result.data.next_cursor;
		this.#learnTags(result.data.items);
		const ids = new Set(this.items.map((a) => a.id));
		this.selected = this.selected.filter((id) => ids.has(id));
	}

	#learnTags(assets: Asset[]): void {
		const tags = new Set(this.knownTags);
		for (const asset of assets) for (const tag of asset.tags) tags.add(tag);
		if (tags.size !== this.knownTags.length) this.knownTags = [...tags].sort((a, b) => a.localeCompare(b));
	}

	setTrashed(trashed: boolean): void {
		if (trashed === this.trashed) return;
		this.trashed = trashed;
		this.selected = [];
		void this.load();
	}

	// Selection: a click selects one, Ctrl/Cmd toggles one, Shift extends from the last one clicked.
	select(id: string, mode: 'one' | 'toggle' | 'range' = 'one'): void {
		if (mode === 'toggle') {
			this.selected = this.selected.includes(id) ? this.selected.filter((s) => s !== id) : [...this.selected, id];
			this.#anchor = id;
		} else if (mode === 'range' && this.#anchor) {
			const order = this.items.map((a) => a.id);
			const [a, b] = [order.indexOf(this.#anchor), order.indexOf(id)];
			if (a < 0) this.selected = [id];
			else this.selected = order.slice(Math.min(a, b), Math.max(a, b) + 1);
		} else {
			this.selected = [id];
			this.#anchor = id;
		}
		if (mode !== 'toggle' || this.selected.includes(id)) this.show(id);
	}

	selectAll(): void {
		this.selected = this.items.map((a) => a.id);
	}

	clearSelection(): void {
		this.selected = [];
	}

	/** Shows asset `id` in the Asset View (and its fields in the Inspector). */
	show(id: string, switchTab = true): void {
		if (switchTab) layout.centerView = 'asset';
		if (id === this.currentId && this.detail?.id === id) return;
		this.currentId = id;
		this.detail = null;
		this.detailProblem = null;
		void this.#loadDetail(id);
	}

	async #loadDetail(id: string): Promise<void> {
		const projectId = this.projectId;
		if (!projectId) return;
		const result = await api.fetchAsset(projectId, id);
		if (id !== this.currentId) return;
		if (result.ok) this.detail = result.data;
		else this.detailProblem = result.problem;
	}

	#replace(asset: Asset): void {
		const index = this.items.findIndex((a) => a.id === asset.id);
		const leaves = (asset.trashed_at !== null) !== this.trashed;
		if (index >= 0) {
			if (leaves) this.items = this.items.filter((a) => a.id !== asset.id);
			else this.items[index] = asset;
		}
		if (this.detail?.id === asset.id) this.detail = { ...this.detail, ...asset };
		this.#learnTags([asset]);
	}

	async update(id: string, patch: AssetPatch): Promise<Problem | null> {
		if (!this.projectId) return notOpen();
		const result = await api.updateAsset(this.projectId, id, patch);
		if (!result.ok) return result.problem;
		this.#replace(result.data);
		return null;
	}

	/** Moves assets to the trash (`trashed`) or back; answers the first problem, if any. */
	async setTrashedAssets(ids: string[], trashed: boolean): Promise<Problem | null> {
		const problems = await Promise.all(ids.map((id) => this.update(id, { trashed })));
		this.selected = this.selected.filter((id) => !ids.includes(id));
		if (this.currentId && ids.includes(this.currentId) && trashed) {
			this.currentId = null;
			this.detail = null;
		}
		return problems.find((p) => p !== null) ?? null;
	}

	async setCover(id: string): Promise<Problem | null> {
		if (!this.projectId) return notOpen();
		const result = await updateProject(this.projectId, { cover_asset_id: id });
		return result.ok ? null : result.problem;
	}

	// Uploads

	readonly uploading = $derived(this.uploads.some((u) => u.state === 'waiting' || u.state === 'uploading' || u.state === 'processing'));

	upload(files: Iterable<File>): void {
		const projectId = this.projectId;
		if (!projectId) return;
		for (const file of files) {
			this.uploads.push({ id: this.#nextUpload++, name: file.name, size: file.size, progress: 0, state: 'waiting' });
			const upload = this.uploads.at(-1)!;
			const category = this.category === 'reference' || this.category === 'generated' ? this.category : null;
			this.#jobs.set(upload.id, { upload, file, projectId, category });
			this.#waiting.push(upload.id);
			this.#batch.push(upload);
		}
		this.#notify();
		this.#drain();
	}

	retry(id: number): void {
		const job = this.#jobs.get(id);
		if (!job || job.upload.state !== 'failed') return;
		job.upload.state = 'waiting';
		job.upload.progress = 0;
		job.upload.problem = undefined;
		if (!this.#waiting.includes(id)) this.#waiting.push(id);
		if (!this.#batch.includes(job.upload)) this.#batch.push(job.upload);
		this.#notify();
		this.#drain();
	}

	/** Cancels an upload still running, or clears a finished one from the queue. */
	dismiss(id: number): void {
		const job = this.#jobs.get(id);
		this.#jobs.delete(id);
		this.#waiting = this.#waiting.filter((w) => w !== id);
		job?.abort?.();
		this.uploads = this.uploads.filter((u) => u.id !== id);
		// One cancelled or cleared before its batch is through no longer counts (one done still does).
		const counted = this.#batch.length;
		this.#batch = this.#batch.filter((u) => u.id !== id || u.state === 'done');
		if (this.#batch.length !== counted) this.#notify();
	}

	/** Shows the batch's toast as it stands; once every file of it is through, the next upload starts another. */
	#notify(): void {
		const notice = uploadNotice(this.#batch.map((u) => u.state));
		if (!notice) return toasts.dismissKey(UPLOAD_TOAST);
		toasts.show(notice);
		if (!notice.sticky) this.#batch = [];
	}

	clearFinished(): void {
		for (const upload of this.uploads) if (upload.state === 'done' || upload.state === 'failed') this.dismiss(upload.id);
	}

	#drain(): void {
		while (this.#running < PARALLEL_UPLOADS && this.#waiting.length) {
			const id = this.#waiting.shift()!;
			const job = this.#jobs.get(id);
			if (job) void this.#send(job);
		}
	}

	async #send(job: UploadJob): Promise<void> {
		const { upload } = job;
		this.#running += 1;
		upload.state = 'uploading';
		upload.progress = 0;
		const handle = api.uploadAsset(job.projectId, job.file, { category: job.category }, (fraction) => {
			upload.progress = fraction;
			if (fraction >= 1) upload.state = 'processing';
		});
		job.abort = handle.abort;
		const result = await handle.promise;
		this.#running -= 1;
		job.abort = undefined;
		if (this.#jobs.get(upload.id) !== job) {
			this.#drain(); // dismissed meanwhile
			return;
		}
		if (result.ok) {
			upload.state = 'done';
			upload.progress = 1;
			this.#added(result.data);
			setTimeout(() => {
				if (upload.state === 'done') this.dismiss(upload.id);
			}, DONE_VISIBLE_MS);
		} else {
			upload.state = 'failed';
			upload.problem = result.problem;
		}
		this.#notify();
		this.#drain();
	}

	/** A mask painted in the mask painter: listed at once, like an upload. */
	painted(asset: Asset): void {
		this.#added(asset);
	}

	/** A new asset shows at once at the top, when it belongs in the listing on show. */
	#added(asset: Asset): void {
		if (asset.project_id !== this.projectId) return;
		this.#learnTags([asset]);
		if (this.trashed || (this.category && asset.category !== this.category) || (this.tag && !asset.tags.includes(this.tag))) return;
		const q = this.query.trim().toLowerCase();
		if (q && !asset.name.toLowerCase().includes(q)) return;
		if (!this.items.some((a) => a.id === asset.id)) this.items = [asset, ...this.items];
	}
}

function notOpen(): Problem {
	return { status: 0, title: 'No project', detail: 'No project is open.' };
}

export const assets = new AssetStore();
