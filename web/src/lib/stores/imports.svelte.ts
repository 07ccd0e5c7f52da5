/** .msproj files being imported into the gallery's workspace, one upload at a time, with progress. */
import type { Problem } from '$lib/api/problem';
import { importProject, type Project } from '$lib/api/projects';

export interface Upload {
	id: number;
	name: string;
	/** 0 to 1 while the bytes travel; the server then unpacks the bundle. */
	progress: number;
	state: 'waiting' | 'uploading' | 'unpacking' | 'done' | 'failed';
	problem?: Problem;
	project?: Project;
}

const BUNDLE = /\.(msproj|zip)$/i;
const DONE_VISIBLE_MS = 8_000;

class ImportQueue {
	uploads = $state<Upload[]>([]);
	#next = 1;
	#running = false;
	#queue: { upload: Upload; file: File; workspaceId: string | undefined; onimported: (project: Project) => void }[] = [];

	readonly active = $derived(this.uploads.some((u) => u.state === 'waiting' || u.state === 'uploading' || u.state === 'unpacking'));

	add(files: Iterable<File>, workspaceId: string | undefined, onimported: (project: Project) => void): void {
		for (const file of files) {
			const upload: Upload = { id: this.#next++, name: file.name, progress: 0, state: 'waiting' };
			if (!BUNDLE.test(file.name)) {
				upload.state = 'failed';
				upload.problem = {
					status: 400,
					title: 'Not a project file',
					detail: `“${file.name}” is not a .msproj file.`,
					hint: 'Export a project from Mediastudio (its menu → Export .msproj) and import that file.'
				};
				this.uploads.push(upload);
				continue;
			}
			this.uploads.push(upload);
			this.#queue.push({ upload: this.uploads.at(-1)!, file, workspaceId, onimported });
		}
		void this.#drain();
	}

	dismiss(id: number): void {
		this.uploads = this.uploads.filter((u) => u.id !== id);
	}

	async #drain(): Promise<void> {
		if (this.#running) return;
		this.#running = true;
		for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
			const { upload, file, workspaceId, onimported } = job;
			upload.state = 'uploading';
			const result = await importProject(file, workspaceId, (fraction) => {
				upload.progress = fraction;
				if (fraction >= 1) upload.state = 'unpacking';
			});
			if (result.ok) {
				upload.state = 'done';
				upload.progress = 1;
				upload.project = result.data;
				onimported(result.data);
				setTimeout(() => this.dismiss(upload.id), DONE_VISIBLE_MS);
			} else {
				upload.state = 'failed';
				upload.problem = result.problem;
			}
		}
		this.#running = false;
	}
}

export const imports = new ImportQueue();
