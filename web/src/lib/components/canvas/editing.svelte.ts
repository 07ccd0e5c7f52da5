/**
 * The canvas's editing actions beyond drawing links: copy, cut, paste, duplicate, select all, align,
 * distribute, lay out, colour, collapse; and the context menu that offers them. Each action is one call to
 * the scene (`CanvasEditor`, which the live scene document is), so each is one undo step that everyone sees
 * at once. SceneCanvas hands over what it knows (`CanvasView`) and routes keys, clipboard events and right
 * clicks here.
 */
import type { NodeType } from '$lib/api/engine';
import type { Bounds, Graph, GraphEdge, GraphGroup, GraphNode } from '$lib/api/scenes';
import type { NodeColor, Point } from '$lib/collab/model';
import { GENERIC_TYPE } from '$lib/collab/sceneDoc.svelte';
import { align, distribute, layoutWithFrames, type Alignment, type Axis, type Box, type FrameOfLayout } from './arrange';
import { copyOf, keepLocally, localCopy, placed, readClipboard, toText, type ClipboardFragment } from './clipboard';
import type { FlowNode } from './flow';
import { FRAME_PADDING, frameAround, type Box as NodeBox, type FrameActions } from './frames';
import type { Reroutes } from './reroute';
import type { CanvasCommand } from './shortcuts';
import type { EditHistory } from '$lib/collab/undo';

/** What the canvas changes in the scene (the live scene document has all of it). */
export interface CanvasEditor {
	addNodes(nodes: Record<string, GraphNode>, edges: readonly GraphEdge[], groups?: Record<string, GraphGroup>): string[];
	/** Moves nodes, and (`frames`) sets groups' frames, in one step. */
	placeNodes(positions: Record<string, Point>, frames?: Record<string, Bounds>): void;
	setColor(nodeIds: Iterable<string>, color: NodeColor | null): void;
	toggleCollapsed(nodeIds: readonly string[]): void;
	toggleBypass(nodeIds: readonly string[]): void;
	deleteElements(nodeIds: Iterable<string>, edgeKeys?: Iterable<string>): void;
	setEdgeVia(key: string, to: Point | null): void;
	addGroup(nodeIds: readonly string[], bounds: Bounds, title?: string): string | null;
	renameGroup(id: string, title: string): void;
	setGroupColor(id: string, color: NodeColor | null): void;
	toggleGroupBypass(id: string): void;
	resizeGroup(id: string, bounds: Bounds, members?: readonly string[]): void;
	setNodeGroups(groups: Record<string, string | null>): void;
	deleteGroup(id: string, withNodes?: boolean): void;
}

/** What the canvas knows that the actions need. */
export interface CanvasView {
	graph(): Graph | null;
	nodes(): readonly FlowNode[];
	selection(): { nodes: string[]; edges: string[]; groups: string[] };
	/** Each node's box on the canvas (position and drawn size). */
	boxes(): Record<string, NodeBox>;
	/** Selects these nodes alone (once they are shown). */
	select(nodeIds: string[]): void;
	selectAll(): void;
	/** Screen to graph coordinates (null before the canvas is ready). */
	toFlow(client: Point): Point | null;
	typeOf(type: string): NodeType | undefined;
	/** Gives the canvas the focus back if what had it is gone (a node cut or deleted): the keys keep working. */
	keepFocus(): void;
	/** The canvas's element, and where the pointer is over it (screen pixels; null when it is elsewhere). */
	element(): HTMLElement | undefined;
	pointer(): Point | null;
	/** The node at `client` (screen pixels) where the canvas draws its overview (no card is there to hit); null elsewhere. */
	nodeAt?(client: Point): string | null;
}

export type MenuTarget = { kind: 'canvas' } | { kind: 'node'; id: string } | { kind: 'edge'; id: string } | { kind: 'group'; id: string };

export interface OpenMenu {
	/** Where it opened, in screen pixels. */
	client: Point;
	target: MenuTarget;
}

/** What a paste said: how many nodes it added and what it left out. */
export interface PasteNotice {
	added: number;
	refused: string[];
}

/** A node's drawn size before Svelte Flow has measured it. */
const UNMEASURED = { width: 220, height: 80 };

export class CanvasEditing {
	menu = $state<OpenMenu | null>(null);
	notice = $state<PasteNotice | null>(null);
	/** The frames' shared state (which title is being edited): set by the canvas. */
	frames: FrameActions | null = null;

	readonly #view: CanvasView;
	readonly #editor: () => CanvasEditor | undefined;

	constructor(view: CanvasView, editor: () => CanvasEditor | undefined) {
		this.#view = view;
		this.#editor = editor;
	}

	get canEdit(): boolean {
		return !!this.#editor();
	}

	#selectedNodes(): string[] {
		return this.#view.selection().nodes;
	}

	// -- the clipboard ------------------------------------------------------------------------------------

	/** The selection as clipboard text; null when no node is selected. */
	#copyText(): string | null {
		const graph = this.#view.graph();
		const ids = this.#selectedNodes();
		if (!graph || !ids.length) return null;
		const text = toText(copyOf(graph, ids));
		keepLocally(text);
		return text;
	}

	/** Ctrl+C (a copy event): the selected nodes go to the system clipboard and this browser's. */
	copy(clipboard: DataTransfer | null): boolean {
		const text = this.#copyText();
		if (text === null) return false;
		clipboard?.setData('text/plain', text);
		return true;
	}

	/** Ctrl+X: copy, then delete (one undo step). */
	cut(clipboard: DataTransfer | null): boolean {
		const editor = this.#editor();
		if (!editor || !this.copy(clipboard)) return false;
		editor.deleteElements(this.#selectedNodes(), this.#view.selection().edges);
		this.#view.keepFocus();
		return true;
	}

	/** The menu's Copy and Cut: through the asynchronous clipboard (it may be refused: this browser's copy stays). */
	copyFromMenu(cut = false): void {
		const text = this.#copyText();
		if (text === null) return;
		void navigator.clipboard?.writeText(text).catch(() => {});
		if (cut) this.#editor()?.deleteElements(this.#selectedNodes(), this.#view.selection().edges);
		if (cut) this.#view.keepFocus();
	}

	/**
	 * Ctrl+V (a paste event's text, or this browser's last copy when the system clipboard is empty): adds the
	 * nodes at `at` (graph coordinates) or beside their originals. False when the text is not copied nodes.
	 */
	paste(text: string, at: Point | null): boolean {
		const editor = this.#editor();
		if (!editor) return false;
		const { fragment, refused } = readClipboard(text || localCopy() || '', (type) => this.#view.typeOf(type), GENERIC_TYPE);
		if (!fragment && !refused.length) return false;
		let ids: string[] = [];
		if (fragment) {
			const moved = placed(fragment, at);
			ids = editor.addNodes(moved.nodes, moved.edges, moved.groups);
			this.#view.select(ids);
		}
		this.notice = refused.length ? { added: ids.length, refused } : null;
		return true;
	}

	/**
	 * Nodes from elsewhere (a workflow of the library, a file dropped or picked) added as a paste adds them: fresh
	 * ids, the links between them kept, their top-left at `at` (graph coordinates) or the middle of the view,
	 * one undo step. Answers how many nodes it added; what it left out is said in the paste notice.
	 */
	insert(text: string, at: Point | null): number {
		const editor = this.#editor();
		if (!editor) return 0;
		const { fragment, refused } = readClipboard(text, (type) => this.#view.typeOf(type), GENERIC_TYPE);
		let ids: string[] = [];
		if (fragment) {
			const moved = placed(fragment, at ?? this.#middle());
			ids = editor.addNodes(moved.nodes, moved.edges);
			this.#view.select(ids);
		}
		this.notice = refused.length ? { added: ids.length, refused } : null;
		return ids.length;
	}

	/** Says why nodes from elsewhere were not added (a refused file). */
	refuse(lines: string[]): void {
		this.notice = { added: 0, refused: lines };
	}

	/** The selected nodes, or every node when none is selected, in the clipboard's format. */
	fragment(): { fragment: ClipboardFragment; whole: boolean } | null {
		const graph = this.#view.graph();
		if (!graph || !Object.keys(graph.nodes).length) return null;
		const ids = this.#selectedNodes();
		return { fragment: copyOf(graph, ids.length ? ids : Object.keys(graph.nodes)), whole: !ids.length };
	}

	#middle(): Point | null {
		const box = this.#view.element()?.getBoundingClientRect();
		return box ? this.#view.toFlow({ x: box.left + box.width / 2, y: box.top + box.height / 3 }) : null;
	}

	/** The menu's Paste: the system clipboard if this browser may read it, else this browser's last copy. */
	async pasteFromMenu(at: Point | null): Promise<void> {
		let text = '';
		try {
			text = (await navigator.clipboard?.readText()) ?? '';
		} catch {
			text = ''; // not allowed: this browser's copy
		}
		if (!this.paste(text, at) && text) this.paste('', at);
	}

	/** Ctrl+D: a copy of the selected nodes beside them, the links between them kept. */
	duplicate(): void {
		const editor = this.#editor();
		const graph = this.#view.graph();
		const ids = this.#selectedNodes();
		if (!editor || !graph || !ids.length) return;
		const copy = placed(copyOf(graph, ids), null);
		this.#view.select(editor.addNodes(copy.nodes, copy.edges, copy.groups));
	}

	// -- arranging ----------------------------------------------------------------------------------------

	#boxes(ids: readonly string[] = this.#selectedNodes()): Box[] {
		const wanted = new Set(ids);
		return this.#view
			.nodes()
			.filter((node) => wanted.has(node.id))
			.map((node) => ({
				id: node.id,
				x: node.position.x,
				y: node.position.y,
				width: node.measured?.width ?? node.width ?? UNMEASURED.width,
				height: node.measured?.height ?? node.height ?? UNMEASURED.height
			}));
	}

	#place(positions: Record<string, Point>): void {
		if (Object.keys(positions).length) this.#editor()?.placeNodes(positions);
	}

	align(how: Alignment): void {
		this.#place(align(this.#boxes(), how));
	}

	distribute(axis: Axis): void {
		this.#place(distribute(this.#boxes(), axis));
	}

	/** Lays the selection out left to right by its links (all nodes when none is selected); a group's nodes are
	 * laid out in their frame, fitted to them, and the frame is laid out as one block (arrange.ts). */
	layout(): void {
		if (this.#selectedNodes().length < 2) this.#view.selectAll();
		const graph = this.#view.graph();
		const edges = Object.values(graph?.edges ?? {});
		const boxes = this.#boxes();
		const groupOf = (id: string) => graph?.nodes[id]?.group ?? null;
		const frames: Record<string, FrameOfLayout> = {};
		for (const group of new Set(boxes.map((box) => groupOf(box.id)))) {
			const bounds = group ? graph?.groups?.[group]?.bounds : undefined;
			if (group && bounds) frames[group] = { bounds, members: this.#boxes(this.membersOf(group)) };
		}
		const arranged = layoutWithFrames(boxes, edges, groupOf, frames, FRAME_PADDING);
		if (Object.keys(arranged.positions).length || Object.keys(arranged.frames).length) {
			this.#editor()?.placeNodes(arranged.positions, arranged.frames);
		}
	}

	// -- looks and the rest -------------------------------------------------------------------------------

	color(color: NodeColor | null): void {
		const ids = this.#selectedNodes();
		if (ids.length) this.#editor()?.setColor(ids, color);
	}

	collapse(): void {
		const ids = this.#selectedNodes();
		if (ids.length) this.#editor()?.toggleCollapsed(ids);
	}

	bypass(): void {
		const ids = this.#selectedNodes();
		if (ids.length) this.#editor()?.toggleBypass(ids);
	}

	selectAll(): void {
		this.#view.selectAll();
	}

	// -- groups -------------------------------------------------------------------------------------------

	/** Ctrl+G: a group framing the selected nodes (they leave any group they were in); its title is edited next. */
	group(): void {
		const editor = this.#editor();
		const boxes = this.#view.boxes();
		const ids = this.#selectedNodes().filter((id) => boxes[id]);
		if (!editor || !ids.length) return;
		const id = editor.addGroup(ids, frameAround(ids.map((node) => boxes[node]!)));
		if (id && this.frames) this.frames.renaming = id;
	}

	/** Ctrl+Shift+G: the selected groups (or the selected nodes' groups) are taken away, their nodes kept. */
	ungroup(groupId?: string): void {
		const graph = this.#view.graph();
		const groups = groupId
			? [groupId]
			: [...new Set([...this.#view.selection().groups, ...this.#selectedNodes().map((id) => graph?.nodes[id]?.group ?? '')])].filter(Boolean);
		for (const group of groups) this.#editor()?.deleteGroup(group, false);
		this.#view.keepFocus(); // the frame that had it is gone
	}

	/** Deletes a group with every node in it (one step). */
	deleteGroupWithNodes(groupId: string): void {
		this.#editor()?.deleteGroup(groupId, true);
		this.#view.keepFocus();
	}

	/** The selected nodes leave their groups (the frames stay). */
	leaveGroup(): void {
		const ids = this.#selectedNodes();
		if (ids.length) this.#editor()?.setNodeGroups(Object.fromEntries(ids.map((id) => [id, null])));
	}

	/** Edits the group's title in its frame (a double-click on the title does the same). */
	renameGroup(groupId: string): void {
		if (this.frames) this.frames.renaming = groupId;
	}

	groupColor(groupId: string, color: NodeColor | null): void {
		this.#editor()?.setGroupColor(groupId, color);
	}

	groupBypass(groupId: string): void {
		this.#editor()?.toggleGroupBypass(groupId);
	}

	/** The ids of a group's nodes (`runnable`: not its notes, which a run has nothing to do with). */
	membersOf(groupId: string, runnable = false): string[] {
		return Object.entries(this.#view.graph()?.nodes ?? {})
			.filter(([, node]) => node.group === groupId && !(runnable && node.type === GENERIC_TYPE))
			.map(([id]) => id);
	}

	selectGroupNodes(groupId: string): void {
		this.#view.select(this.membersOf(groupId));
	}

	deleteSelection(): void {
		const { nodes, edges } = this.#view.selection();
		if (nodes.length || edges.length) this.#editor()?.deleteElements(nodes, edges);
		this.#view.keepFocus();
	}

	deleteEdge(key: string): void {
		this.#editor()?.deleteElements([], [key]);
		this.#view.keepFocus();
	}

	/** A reroute point on a link where the menu opened (the link is then drawn through it), or none. */
	reroute(key: string, add: boolean): void {
		this.#editor()?.setEdgeVia(key, add ? this.menuPoint() : null);
	}

	/** What a link's reroute point may do (RerouteEdge.svelte): a drag is one step of `history`. */
	reroutes(history: () => EditHistory | undefined): Reroutes {
		const editing = this;
		return {
			get editable() {
				return editing.canEdit;
			},
			move: (key, to) => this.#editor()?.setEdgeVia(key, to),
			remove: (key) => this.#editor()?.setEdgeVia(key, null),
			hold: () => history()?.hold(),
			release: () => history()?.release()
		};
	}

	/** A key the canvas gave over (canvas/shortcuts.ts); false when it is not one of these actions. */
	command(command: CanvasCommand): boolean {
		if (!this.canEdit) return false;
		if (command === 'selectAll') this.selectAll();
		else if (command === 'duplicate') this.duplicate();
		else if (command === 'collapse') this.collapse();
		else if (command === 'group') this.group();
		else if (command === 'ungroup') this.ungroup();
		else if (command === 'rename') {
			const group = this.#view.selection().groups[0];
			if (!group) return false;
			this.renameGroup(group);
		}
		else if (command === 'menu') this.#openMenuFromKeys();
		else return false;
		return true;
	}

	// -- the context menu ---------------------------------------------------------------------------------

	/** Shift+F10 or the Menu key: the menu of the selected nodes, under the first of them; else the canvas's. */
	#openMenuFromKeys(): void {
		const element = this.#view.element();
		const group = this.#selectedNodes().length ? null : this.#view.selection().groups[0];
		const frame = group ? element?.querySelector(`.svelte-flow__node[data-id="${CSS.escape(`group:${group}`)}"]`) : null;
		if (group && frame) {
			const box = frame.getBoundingClientRect();
			this.openMenu({ x: box.left + 12, y: box.top + 28 }, { kind: 'group', id: group });
			return;
		}
		const id = this.#selectedNodes()[0];
		const node = id ? element?.querySelector(`.svelte-flow__node[data-id="${CSS.escape(id)}"]`) : null;
		const box = (node ?? element)?.getBoundingClientRect();
		if (!box) return;
		if (node && id) this.openMenu({ x: box.left + 12, y: box.bottom - 4 }, { kind: 'node', id });
		else this.openMenu(this.#view.pointer() ?? { x: box.left + box.width / 2, y: box.top + box.height / 2 }, { kind: 'canvas' });
	}

	/** A right click or a long press at `client` on `target`: true when it opened the menu. */
	openMenuAt(client: Point, target: EventTarget | null): boolean {
		let on = this.canEdit ? menuTargetOf(target) : null;
		// Over the canvas's overview the pane is what was hit: the overview says which node is drawn there.
		const drawn = on?.kind === 'canvas' ? (this.#view.nodeAt?.(client) ?? null) : null;
		if (drawn) on = { kind: 'node', id: drawn };
		if (on) this.openMenu(client, on);
		return !!on;
	}

	/** Opens the menu of what is under `client` (a right click, a long press); a node not selected is selected alone. */
	openMenu(client: Point, target: MenuTarget): void {
		if (target.kind === 'node' && target.id && !this.#selectedNodes().includes(target.id)) this.#view.select([target.id]);
		this.menu = { client, target };
	}

	closeMenu(): void {
		this.menu = null;
	}

	/** Where the menu's Paste and Add node put things: where it was opened. */
	menuPoint(): Point | null {
		return this.menu ? this.#view.toFlow(this.menu.client) : null;
	}
}

/** What a right click or a long press at `target` is about, from the element under it. */
export function menuTargetOf(target: EventTarget | null): MenuTarget | null {
	if (!(target instanceof Element)) return null;
	if (target.closest('.svelte-flow__panel, .svelte-flow__minimap, .svelte-flow__controls, .canvas-overlay, [role="menu"], input, textarea, select')) {
		return null;
	}
	const frame = target.closest('[data-testid="group-frame"][data-group]');
	if (frame) return { kind: 'group', id: frame.getAttribute('data-group')! };
	const node = target.closest('.svelte-flow__node[data-id]');
	if (node) return { kind: 'node', id: node.getAttribute('data-id')! };
	if (target.closest('.svelte-flow__selection-wrapper, .svelte-flow__nodesselection-rect')) return { kind: 'node', id: '' };
	const edge = target.closest('.svelte-flow__edge[data-id]');
	if (edge) return { kind: 'edge', id: edge.getAttribute('data-id')! };
	const reroute = target.closest('[data-reroute-edge]'); // a link's reroute point: the link's menu
	if (reroute) return { kind: 'edge', id: reroute.getAttribute('data-reroute-edge')! };
	return target.closest('.svelte-flow') ? { kind: 'canvas' } : null;
}
