/**
 * One scene's live graph: a Yjs document kept on this device (IndexedDB) and synced with the
 * server's room (`/api/v1/projects/{id}/scenes/{scene}/sync`). Svelte reads plain snapshots
 * (`nodes`, `edges`) that follow the document; every change goes through the methods below, one
 * transaction per gesture, so the server, the other people and the files see whole gestures.
 */
import { IndexeddbPersistence } from 'y-indexeddb';
import type { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import type { Bounds, Graph, GraphEdge, GraphGroup, GraphNode } from '$lib/api/scenes';
import { ThrottledPresence, watchPeers, type Peer, type PresenceFields } from './awareness';
import { guardEpoch } from './epochGuard';
import { FrameBatch } from './frameBatch';
import { insertGroup, newGroupId, readGroups, removeGroup, setBounds, setGroupField, setNodeGroup } from './groups';
import {
	edgesOf,
	editText,
	groupsOf,
	epochOf,
	insertEdge,
	insertNode,
	LOCAL,
	moveNode,
	newNodeId,
	nodesOf,
	paramsOf,
	readEdge,
	readGraph,
	readNode,
	removeElements,
	setLook,
	setVia,
	writeParam,
	type NodeColor,
	type ParamValue,
	type Point
} from './model';
import { createProvider, onNotice, whenSettled } from './provider';
import { SceneHistory, type EditHistory } from './undo';
import { wireMask as wireMaskInto } from './masks';

/**
 * `connecting`: not reached the server yet; `connected`: reached, catching up; `synced`: live;
 * `offline`: lost, retrying (edits are kept on this device); `closed`: the server refused the room.
 */
export type DocStatus = 'connecting' | 'connected' | 'synced' | 'offline' | 'closed';

export const GENERIC_TYPE = 'generic';


export interface SceneDocOptions {
	projectId: string;
	sceneId: string;
	/** Keys this device's copy, so two accounts on one browser never share one. */
	userId: string;
	canEdit: () => boolean;
}

/** The parts that live and die together; rebuilt when the local copy is dropped (a new epoch). */
interface Session {
	doc: Y.Doc;
	provider: WebsocketProvider;
	local: IndexeddbPersistence | null;
	presence: ThrottledPresence;
	/** This user's undo and redo (of this document only: a new epoch starts a new history). */
	history: SceneHistory;
	stop: () => void;
}

export class SceneDoc implements EditHistory {
	readonly projectId: string;
	readonly sceneId: string;

	nodes = $state.raw<Record<string, GraphNode>>({});
	/** Only edges whose two nodes exist (a dangling one waits for the server's repair). */
	edges = $state.raw<Record<string, GraphEdge>>({});
	/** The groups (titled frames); a node names its own in `group` (collab/groups.ts). */
	groups = $state.raw<Record<string, GraphGroup>>({});
	status = $state<DocStatus>('connecting');
	/** Failed connection attempts since the last good one. */
	attempts = $state(0);
	/** The graph can be shown: loaded from this device or from the server. */
	ready = $state(false);
	/** Why the server refused the room (when `status` is `closed`). */
	closed = $state<{ code: number; reason: string } | null>(null);
	/** Set when this device's copy belonged to an older epoch and was dropped. */
	reloaded = $state(false);
	/** Everyone else in this scene, with their cursor, selection and what they edit. */
	peers = $state.raw<Peer[]>([]);
	/** This user has an edit to undo / an undone edit to redo (in this document). */
	canUndo = $state(false);
	canRedo = $state(false);

	#options: SceneDocOptions;
	#session: Session | null = null;
	#presence: Partial<PresenceFields> = {};
	#destroyed = false;
	/** The nodes an undo or a redo changes, gathered while it runs. */
	#touched: Set<string> | null = null;
	/** Other people's changes and presence, shown once a frame (collab/frameBatch.ts). */
	#changes = new FrameBatch<DocChange>(mergeChanges, (change) => this.#show(change));
	#peers = new FrameBatch<Peer[]>((_, latest) => latest, (peers) => (this.peers = peers));

	constructor(options: SceneDocOptions) {
		this.#options = options;
		this.projectId = options.projectId;
		this.sceneId = options.sceneId;
		this.#session = this.#start();
	}

	get doc(): Y.Doc | null {
		return this.#session?.doc ?? null;
	}

	get canEdit(): boolean {
		return this.#options.canEdit();
	}

	/** Leaves the room and lets go of the document (scene switch, project closed). */
	destroy(): void {
		this.#destroyed = true;
		this.#changes.drop();
		this.#peers.drop();
		this.#session?.stop();
		this.#session = null;
	}

	// -- editing ----------------------------------------------------------------------------------------

	/** One local transaction; `gesture` says what it changes, so a burst of edits of one field is one undo step. */
	#edit(change: (doc: Y.Doc) => void, gesture: unknown = null): boolean {
		const session = this.#session;
		if (!session || !this.canEdit) return false;
		session.history.before(gesture);
		session.doc.transact(() => change(session.doc), LOCAL);
		return true;
	}

	/** Adds a node (picked from the palette, an asset dropped on the canvas); answers its id. */
	addNode(node: GraphNode): string | null {
		let id: string | null = null;
		this.#edit((doc) => {
			id = newNodeId(doc);
			insertNode(doc, id, node);
		});
		return id;
	}

	/** Moves nodes, and group frames (`frames`: a group id → its frame's new top-left corner), in one step. */
	moveNodes(positions: Record<string, Point>, frames: Record<string, Point> = {}): void {
		const doc = this.#session?.doc;
		if (!doc) return;
		// Only real moves make a transaction (a drop where the node already is sends nothing).
		const moved = Object.entries(positions).filter(([id, to]) => {
			const from = this.nodes[id]?.position;
			return from && (from.x !== Math.round(to.x) || from.y !== Math.round(to.y));
		});
		const framed = Object.entries(frames).filter(([id, to]) => {
			const from = this.groups[id]?.bounds;
			return from && (from.x !== Math.round(to.x) || from.y !== Math.round(to.y));
		});
		const gesture = `move:${moved.map(([id]) => id).join(',')}|${framed.map(([id]) => id).join(',')}`;
		if (moved.length || framed.length) {
			this.#edit(() => {
				moved.forEach(([id, to]) => moveNode(doc, id, to));
				framed.forEach(([id, to]) => setBounds(doc, id, to));
			}, gesture);
		}
	}

	// -- groups (collab/groups.ts) ----------------------------------------------------------------------

	/** A group framing `bounds` around these nodes (taken out of any other group): answers its id. */
	addGroup(nodeIds: readonly string[], bounds: Bounds, title = 'Group'): string | null {
		let id: string | null = null;
		this.#edit((doc) => {
			const made = newGroupId(doc);
			insertGroup(doc, made, { title, bounds });
			for (const nodeId of nodeIds) setNodeGroup(doc, nodeId, made);
			id = made;
		});
		return id;
	}

	/** Renames a group (one step per rename: the title is typed in a field, then committed). */
	renameGroup(id: string, title: string): void {
		this.#edit((doc) => setGroupField(doc, id, 'title', title));
	}

	setGroupColor(id: string, color: NodeColor | null): void {
		this.#edit((doc) => setGroupField(doc, id, 'color', color));
	}

	/** Bypasses a group (a run skips every node in it), or stops bypassing it. */
	toggleGroupBypass(id: string): void {
		const group = this.groups[id];
		if (group) this.#edit((doc) => setGroupField(doc, id, 'bypass', group.bypass ? null : true));
	}

	/** Resizes (and moves) a frame; `members` is who is in it now: nodes that left are in no group, nodes that
	 * came in join it. A drag of the frame's handle is one step. */
	resizeGroup(id: string, bounds: Bounds, members?: readonly string[]): void {
		this.#edit((doc) => {
			setBounds(doc, id, bounds);
			if (members) this.#setMembers(doc, id, members);
		}, `frame:${id}`);
	}

	/** Nodes dropped into a group or out of all (`null`): each id → its group now. */
	setNodeGroups(groups: Record<string, string | null>): void {
		const changes = Object.entries(groups).filter(([id, group]) => this.nodes[id] && (this.nodes[id]!.group ?? null) !== group);
		if (changes.length) this.#edit((doc) => changes.forEach(([id, group]) => setNodeGroup(doc, id, group)));
	}

	/** Takes a group away; its nodes stay where they are, or (`withNodes`) go with it. */
	deleteGroup(id: string, withNodes = false): void {
		const members = Object.entries(this.nodes).filter(([, node]) => node.group === id).map(([nodeId]) => nodeId);
		this.#edit((doc) => {
			removeGroup(doc, id);
			if (withNodes) removeElements(doc, members, []);
		});
	}

	#setMembers(doc: Y.Doc, id: string, members: readonly string[]): void {
		const wanted = new Set(members);
		for (const [nodeId, node] of Object.entries(this.nodes)) {
			if (wanted.has(nodeId)) setNodeGroup(doc, nodeId, id);
			else if (node.group === id) setNodeGroup(doc, nodeId, null);
		}
	}

	/**
	 * Adds nodes and the edges between them in one step (a paste, a duplicate): each node gets a fresh id
	 * (`nodes` are keyed by names the edges use). Answers the new ids.
	 */
	addNodes(nodes: Record<string, GraphNode>, edges: readonly GraphEdge[], groups: Record<string, GraphGroup> = {}): string[] {
		const ids = new Map<string, string>();
		this.#edit((doc) => {
			const groupIds = new Map<string, string>();
			for (const [name, group] of Object.entries(groups)) {
				const id = newGroupId(doc);
				groupIds.set(name, id);
				insertGroup(doc, id, group);
			}
			for (const [name, node] of Object.entries(nodes)) {
				const id = newNodeId(doc);
				ids.set(name, id);
				const group = node.group ? groupIds.get(node.group) : undefined;
				insertNode(doc, id, { ...node, group: group ?? null });
			}
			for (const edge of edges) {
				const [source, target] = [ids.get(edge.source), ids.get(edge.target)];
				if (source && target) insertEdge(doc, { ...edge, source, target });
			}
		});
		return [...ids.values()];
	}

	/** Feeds a newly painted mask asset to an inpaint node (collab/masks.ts) in one undoable step; answers the
	 * id of the Load image node that loads it. */
	wireMask(inpaintId: string, assetId: string, name: string): string | null {
		let id: string | null = null;
		const graph = { nodes: this.nodes, edges: this.edges };
		this.#edit((doc) => (id = wireMaskInto(doc, graph, inpaintId, assetId, name)));
		return id;
	}

	/** Moves nodes, and sets frames (a layout fits a group's frame to its nodes), as one step of their own
	 * (align, distribute, arrange), never joined to a drag or arrow keys. */
	placeNodes(positions: Record<string, Point>, frames: Record<string, Bounds> = {}): void {
		this.#edit((doc) => {
			Object.entries(positions).forEach(([id, to]) => moveNode(doc, id, to));
			Object.entries(frames).forEach(([id, bounds]) => this.groups[id] && setBounds(doc, id, bounds));
		});
	}

	/** Adds, moves (a drag joins one step, like a node's) or (null) takes away a link's reroute point. */
	setEdgeVia(key: string, to: Point | null): void {
		this.#edit((doc) => setVia(doc, key, to), to ? `via:${key}` : null);
	}

	/** Colours nodes (null: their own colour again). */
	setColor(nodeIds: Iterable<string>, color: NodeColor | null): void {
		this.#edit((doc) => [...nodeIds].forEach((id) => setLook(doc, id, 'color', color)));
	}

	/** Draws nodes as their title bar only, or whole again. */
	setCollapsed(nodeIds: Iterable<string>, collapsed: boolean): void {
		this.#edit((doc) => [...nodeIds].forEach((id) => setLook(doc, id, 'collapsed', collapsed || null)));
	}

	/** Collapses every node given, unless all of them are collapsed already (then none is). */
	toggleCollapsed(nodeIds: readonly string[]): void {
		const known = nodeIds.filter((id) => this.nodes[id]);
		if (known.length) this.setCollapsed(known, !known.every((id) => this.nodes[id]!.collapsed === true));
	}

	deleteElements(nodeIds: Iterable<string>, edgeKeys: Iterable<string> = []): void {
		this.#edit((doc) => removeElements(doc, nodeIds, edgeKeys));
	}

	connect(edge: GraphEdge): string | null {
		let key: string | null = null;
		this.#edit((doc) => (key = insertEdge(doc, edge)));
		return key;
	}

	disconnect(edgeKeys: Iterable<string>): void {
		this.deleteElements([], edgeKeys);
	}

	setTitle(nodeId: string, title: string): void {
		this.#edit((doc) => {
			const node = nodesOf(doc).get(nodeId);
			if (node instanceof Y.Map && node.get('title') !== title) node.set('title', title);
		}, `title:${nodeId}`);
	}

	/** Bypasses nodes (a run hands their inputs straight to their outputs), or stops bypassing them. */
	setBypass(nodeIds: Iterable<string>, bypass: boolean): void {
		this.#edit((doc) => {
			for (const id of nodeIds) {
				const node = nodesOf(doc).get(id);
				if (node instanceof Y.Map && (node.get('bypass') === true) !== bypass) node.set('bypass', bypass);
			}
		});
	}

	/** Ctrl+B: bypasses every node given, unless all of them are bypassed already (then none is). */
	toggleBypass(nodeIds: readonly string[]): void {
		const known = nodeIds.filter((id) => this.nodes[id]);
		if (known.length) this.setBypass(known, !known.every((id) => this.nodes[id]!.bypass === true));
	}

	/** Sets a number, a boolean or a plain value; a string edits the parameter's text in place. */
	setParam(nodeId: string, key: string, value: ParamValue): void {
		this.#edit((doc) => writeParam(doc, nodeId, key, value), `param:${nodeId}:${key}`);
	}

	removeParam(nodeId: string, key: string): void {
		this.#edit((doc) => paramsOf(doc, nodeId)?.delete(key));
	}

	/** The Y.Text of a text parameter, to bind a text field to (see `bindText`). */
	text(nodeId: string, key: string): Y.Text | null {
		const doc = this.#session?.doc;
		const value = doc ? paramsOf(doc, nodeId)?.get(key) : null;
		return value instanceof Y.Text ? value : null;
	}

	/** Applies a text field's edit (from `before` to `after`) to the parameter's text, in place. */
	editText(text: Y.Text, before: string, after: string, caret?: number): void {
		this.#edit(() => editText(text, before, after, caret), text);
	}

	// -- undo and redo (this user's own edits) ----------------------------------------------------------

	undo(): string[] {
		return this.#replay((history) => history.undo());
	}

	redo(): string[] {
		return this.#replay((history) => history.redo());
	}

	hold(): void {
		this.#session?.history.hold();
	}

	release(): void {
		this.#session?.history.release();
	}

	/** Runs an undo or a redo; answers the ids of the nodes it changed (some may be gone). */
	#replay(step: (history: SceneHistory) => void): string[] {
		const history = this.#session?.history;
		if (!history || !this.canEdit) return [];
		this.#touched = new Set();
		try {
			step(history); // the document's observers run before this returns
			return [...this.#touched];
		} finally {
			this.#touched = null;
		}
	}

	// -- presence ---------------------------------------------------------------------------------------

	/** Publishes where this user is and what they do (throttled below the server's limit). */
	setPresence(patch: Partial<PresenceFields>): void {
		Object.assign(this.#presence, patch);
		this.#session?.presence.set(patch);
	}

	// -- the session ------------------------------------------------------------------------------------

	#start(): Session {
		const { projectId, sceneId, userId } = this.#options;
		const doc = new Y.Doc();
		const provider = createProvider(`/api/v1/projects/${encodeURIComponent(projectId)}/scenes`, `${encodeURIComponent(sceneId)}/sync`, doc, false);
		let local: IndexeddbPersistence | null = null;
		try {
			local = new IndexeddbPersistence(`mediastudio.scene.${userId}.${projectId}.${sceneId}`, doc);
		} catch {
			local = null; // no IndexedDB (private mode): live only
		}
		const presence = new ThrottledPresence(provider.awareness);
		onNotice(provider, (notice) => {
			if (notice.type === 'slow-down') presence.slowDown(notice.limit);
		});
		const history = new SceneHistory(doc, ({ canUndo, canRedo }) => {
			if (this.#session?.doc !== doc) return;
			this.canUndo = canUndo;
			this.canRedo = canRedo;
		});
		provider.awareness.setLocalState({ ...this.#presence });
		// Dropped outside the provider's message handler, which is still running when this is called.
		guardEpoch(provider, () => (local?.synced ? epochOf(doc) : null), () => setTimeout(() => void this.#dropLocalCopy()));

		const observer = (events: Y.YEvent<Y.AbstractType<unknown>>[]) => this.#apply(doc, events);
		nodesOf(doc).observeDeep(observer);
		edgesOf(doc).observeDeep(observer);
		const groupObserver = () => {
			if (this.#session?.doc === doc || !this.#session) this.groups = readGroups(doc);
		};
		groupsOf(doc).observeDeep(groupObserver);
		const onStatus = ({ status }: { status: string }) => this.#onStatus(status, provider);
		const onSync = (synced: boolean) => {
			if (!synced) return;
			this.#changes.now(); // the server's copy is shown with the news that it is in (an empty canvas is framed otherwise)
			this.status = 'synced';
			this.attempts = 0;
			this.ready = true;
		};
		const onClosed = (event: { code: number; reason: string }) => {
			this.closed = event;
			this.status = 'closed';
			if (event.code === 4404 || event.code === 4410) void local?.clearData(); // the scene is gone for good
		};
		const onOnline = () => provider.connect();
		provider.on('status', onStatus);
		provider.on('sync', onSync);
		provider.on('closed', onClosed);
		const unwatchPeers = watchPeers(provider.awareness, (peers) => this.#peers.later(peers));
		window.addEventListener('online', onOnline);

		// Connect once this device's copy is loaded, so the epoch check knows what it holds.
		const go = () => {
			if (this.#session?.provider !== provider) return;
			this.#refresh(doc);
			if (Object.keys(this.nodes).length) this.ready = true;
			provider.connect();
		};
		if (local) void local.whenSynced.then(go, go);
		else queueMicrotask(go);

		const stop = () => {
			history.destroy();
			presence.destroy();
			window.removeEventListener('online', onOnline);
			unwatchPeers();
			provider.off('status', onStatus);
			provider.off('sync', onSync);
			provider.off('closed', onClosed);
			void local?.destroy();
			whenSettled(provider, () => {
				provider.destroy();
				doc.destroy();
			});
		};
		return { doc, provider, local, presence, history, stop };
	}

	#onStatus(status: string, provider: WebsocketProvider): void {
		if (status === 'connected') {
			this.status = 'connected';
		} else if (status === 'disconnected') {
			this.status = 'offline';
		} else if (status === 'connecting') {
			this.attempts = provider.wsUnsuccessfulReconnects;
			if (this.status === 'synced' || this.attempts > 0) this.status = 'offline';
		}
		if (status !== 'connected') this.#peers.now([]);
	}

	/** The server's document is of another epoch: forget this device's copy and load it anew. */
	async #dropLocalCopy(): Promise<void> {
		const old = this.#session;
		if (!old || this.#destroyed) return;
		this.#session = null;
		this.#changes.drop();
		old.stop();
		await old.local?.clearData();
		if (this.#destroyed) return;
		this.nodes = {};
		this.edges = {};
		this.groups = {};
		this.ready = false;
		this.canUndo = false;
		this.canRedo = false;
		this.reloaded = true;
		this.#session = this.#start();
	}

	#refresh(doc: Y.Doc): void {
		this.#changes.drop(); // read whole below
		const graph: Graph = readGraph(doc);
		this.nodes = graph.nodes;
		this.edges = graph.edges;
		this.groups = graph.groups ?? {};
	}

	/** Notes the nodes the events touched: this user's changes are shown at once (with others' that wait before
	 * them), others' at the next frame, gathered (each remote message is its own task). */
	#apply(doc: Y.Doc, events: Y.YEvent<Y.AbstractType<unknown>>[]): void {
		if (this.#session?.doc !== doc) return;
		const nodes = nodesOf(doc);
		const change: DocChange = { doc, touched: new Set<string>(), edges: false };
		for (const event of events) {
			if (event.target === nodes && event instanceof Y.YMapEvent) {
				event.keysChanged.forEach((key: string) => change.touched.add(key));
				change.edges = true; // a node added or removed: its edges may show or go
			} else if (event.path[0] !== undefined && event.currentTarget === nodes) {
				change.touched.add(String(event.path[0]));
			} else change.edges = true;
		}
		for (const id of change.touched) this.#touched?.add(id);
		if (this.#touched || events.some((event) => event.transaction.local)) this.#changes.now(change);
		else this.#changes.later(change);
	}

	/** Updates the snapshots of the nodes the changes touched (a drag re-reads one node, not all). */
	#show({ doc, touched, edges: edgesChanged }: DocChange): void {
		if (this.#session?.doc !== doc) return;
		const nodes = nodesOf(doc);
		if (touched.size) {
			const next = { ...this.nodes };
			for (const id of touched) {
				const node = nodes.get(id);
				if (node instanceof Y.Map) next[id] = readNode(node);
				else delete next[id];
			}
			this.nodes = next;
		}
		if (edgesChanged) {
			const edges: Record<string, GraphEdge> = {};
			edgesOf(doc).forEach((entry, key) => {
				const edge = entry instanceof Y.Map ? readEdge(entry) : null;
				if (edge && this.nodes[edge.source] && this.nodes[edge.target]) edges[key] = edge;
			});
			this.edges = edges;
		}
		if (Object.keys(this.nodes).length) this.ready = true;
	}
}

/** What a transaction of the document changed: the nodes it touched, and whether the edges must be read again. */
interface DocChange {
	doc: Y.Doc;
	touched: Set<string>;
	edges: boolean;
}

function mergeChanges(pending: DocChange | null, more: DocChange): DocChange {
	if (!pending || pending.doc !== more.doc) return more;
	return { doc: more.doc, touched: new Set([...pending.touched, ...more.touched]), edges: pending.edges || more.edges };
}
