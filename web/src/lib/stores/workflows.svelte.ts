/**
 * Reusable graphs in the studio: the open project's workspace library (listed, searched, saved to, renamed,
 * deleted), and nodes brought into the scene from it or from a file (a workflow's JSON, a picture the studio
 * generated). The canvas hands over what it can do (`WorkflowCanvas`) while a scene is shown; everything added
 * goes through its paste, so it is one undo step that everyone in the scene sees at once.
 */
import type { Point } from '$lib/collab/model';
import type { ClipboardFragment } from '$lib/components/canvas/clipboard';
import {
	deleteWorkflow,
	fetchWorkflow,
	listWorkflows,
	readWorkflowFile,
	renameWorkflow,
	saveWorkflow,
	type Workflow
} from '$lib/api/workflows';
import type { Problem } from '$lib/api/problem';

/** What the shown scene's canvas lets the library do. */
export interface WorkflowCanvas {
	/** The selected nodes (all when none is), in the clipboard's format. */
	fragment(): { fragment: ClipboardFragment; whole: boolean } | null;
	/** Adds nodes (clipboard text) at `client` (screen pixels) or the middle of the view: how many it added. */
	insert(text: string, client: Point | null): number;
	/** Says why a file was not added, on the canvas. */
	refuse(lines: string[]): void;
	/** Whether this person may edit the scene. */
	editable(): boolean;
}

const PREVIEW_PX = 256;

/** A small WebP of a picture of this origin (the latest result of the nodes saved), for the library's list. */
export async function previewOf(url: string | null): Promise<string | null> {
	if (!url) return null;
	try {
		const image = new Image();
		image.src = url;
		await image.decode();
		const scale = Math.min(1, PREVIEW_PX / Math.max(image.naturalWidth, image.naturalHeight));
		const canvas = document.createElement('canvas');
		canvas.width = Math.max(1, Math.round(image.naturalWidth * scale));
		canvas.height = Math.max(1, Math.round(image.naturalHeight * scale));
		canvas.getContext('2d')?.drawImage(image, 0, 0, canvas.width, canvas.height);
		const data = canvas.toDataURL('image/webp', 0.8);
		return data.startsWith('data:image/webp') || data.startsWith('data:image/png') ? data : null;
	} catch {
		return null; // no picture yet, or it could not be read: the workflow is saved without one
	}
}

/** A file saved by the browser (a workflow exported as JSON). */
export function download(name: string, text: string): void {
	const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
	const link = document.createElement('a');
	link.href = url;
	link.download = `${name.replace(/[^\p{L}\p{N} _-]+/gu, '_').trim() || 'workflow'}.json`;
	document.body.append(link);
	link.click();
	link.remove();
	setTimeout(() => URL.revokeObjectURL(url), 1000);
}

class Workflows {
	open = $state(false);
	items = $state<Workflow[]>([]);
	query = $state('');
	loading = $state(false);
	problem = $state<Problem | null>(null);
	canvas = $state<WorkflowCanvas | null>(null);
	#workspace: string | null = null;

	show(workspaceId: string | null): void {
		this.open = true;
		void this.load(workspaceId);
	}

	async load(workspaceId: string | null = this.#workspace): Promise<void> {
		this.#workspace = workspaceId;
		if (!workspaceId) return;
		this.loading = true;
		const result = await listWorkflows(workspaceId, this.query);
		this.loading = false;
		if (workspaceId !== this.#workspace) return;
		this.problem = result.ok ? null : result.problem;
		if (result.ok) this.items = result.data;
	}

	async save(name: string, description: string, preview: string | null): Promise<Problem | null> {
		const taken = this.canvas?.fragment();
		if (!this.#workspace || !taken) return { status: 400, title: 'Nothing to save', detail: 'The scene has no nodes to save.' };
		const { format, version, nodes, edges } = taken.fragment;
		const result = await saveWorkflow(this.#workspace, { name, description, graph: { format, version, nodes, edges }, preview });
		if (!result.ok) return result.problem;
		await this.load();
		return null;
	}

	/** Inserts a workflow of the library into the scene shown, in the middle of the view. */
	async insert(workflowId: string): Promise<Problem | null> {
		const result = await fetchWorkflow(workflowId);
		if (!result.ok) return result.problem;
		this.canvas?.insert(JSON.stringify(result.data.graph), null);
		return null;
	}

	/** A file dropped on the canvas (at `client`) or picked: its nodes, as the server read and checked them. */
	async insertFile(file: File, client: Point | null): Promise<boolean> {
		const result = await readWorkflowFile(file);
		if (!result.ok) {
			this.canvas?.refuse([`${file.name}: ${result.problem.detail}${result.problem.hint ? ` ${result.problem.hint}` : ''}`]);
			return false;
		}
		return (this.canvas?.insert(JSON.stringify(result.data), client) ?? 0) > 0;
	}

	async rename(workflowId: string, name: string): Promise<Problem | null> {
		const result = await renameWorkflow(workflowId, name);
		if (result.ok) await this.load();
		return result.ok ? null : result.problem;
	}

	async remove(workflowId: string): Promise<Problem | null> {
		const result = await deleteWorkflow(workflowId);
		if (result.ok) this.items = this.items.filter((item) => item.id !== workflowId);
		return result.ok ? null : result.problem;
	}
}

export const workflows = new Workflows();
