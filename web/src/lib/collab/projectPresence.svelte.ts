/**
 * Who is in the open project and where: the project's awareness-only
 * room (`/api/v1/projects/{id}/presence`). Feeds the header's avatars and the dots beside scenes in
 * the Project Browser and assets in the Asset Browser.
 */
import type { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { peersOf, ThrottledPresence, type Peer, type PeerUser, type PresenceFields } from './awareness';
import { createProvider, onNotice, whenSettled } from './provider';

/** One person (whatever number of tabs they have open) and the places they are in. */
export interface Person {
	user: PeerUser;
	scenes: string[];
	assets: string[];
	panels: string[];
}

function people(peers: Peer[]): Person[] {
	const byUser = new Map<string, Person>();
	for (const peer of peers) {
		let person = byUser.get(peer.user.id);
		if (!person) byUser.set(peer.user.id, (person = { user: peer.user, scenes: [], assets: [], panels: [] }));
		if (peer.scene && !person.scenes.includes(peer.scene)) person.scenes.push(peer.scene);
		if (peer.asset && !person.assets.includes(peer.asset)) person.assets.push(peer.asset);
		if (peer.panel && !person.panels.includes(peer.panel)) person.panels.push(peer.panel);
	}
	return [...byUser.values()];
}

class ProjectPresence {
	projectId = $state<string | null>(null);
	/** Everyone else in the project (this user's other tabs included), one entry per client. */
	peers = $state.raw<Peer[]>([]);
	connected = $state(false);

	#provider: WebsocketProvider | null = null;
	#doc: Y.Doc | null = null;
	#presence: ThrottledPresence | null = null;
	#local: Partial<PresenceFields> = {};

	/** Other people (not this user), once each. */
	readonly others = $derived.by(() => people(this.peers));

	/** The people in scene `sceneId` / looking at asset `assetId`, for the browsers' dots. */
	inScene(sceneId: string, exceptUserId?: string): PeerUser[] {
		return this.others.filter((p) => p.scenes.includes(sceneId) && p.user.id !== exceptUserId).map((p) => p.user);
	}

	/** The people looking at a shot: at its card on the board, or at its scene's canvas. */
	onShot(sceneId: string, nodeId: string, exceptUserId?: string): PeerUser[] {
		const seen = new Map<string, PeerUser>();
		for (const peer of this.peers) {
			if (peer.user.id === exceptUserId) continue;
			const here = peer.panel === 'board' ? peer.shot === `${sceneId}/${nodeId}` : peer.panel === 'scene' && peer.scene === sceneId;
			if (here) seen.set(peer.user.id, peer.user);
		}
		return [...seen.values()];
	}

	onAsset(assetId: string, exceptUserId?: string): PeerUser[] {
		return this.others.filter((p) => p.assets.includes(assetId) && p.user.id !== exceptUserId).map((p) => p.user);
	}

	open(projectId: string): void {
		if (projectId === this.projectId) return;
		this.close();
		this.projectId = projectId;
		const doc = (this.#doc = new Y.Doc()); // awareness only: the server ignores document updates here
		const provider = (this.#provider = createProvider('/api/v1/projects', `${encodeURIComponent(projectId)}/presence`, doc, true));
		const presence = (this.#presence = new ThrottledPresence(provider.awareness));
		onNotice(provider, (notice) => {
			if (notice.type === 'slow-down') presence.slowDown(notice.limit);
		});
		provider.awareness.setLocalState({ ...this.#local });
		provider.awareness.on('change', () => {
			if (provider === this.#provider) this.peers = peersOf(provider.awareness);
		});
		provider.on('status', ({ status }) => {
			if (provider !== this.#provider) return;
			this.connected = status === 'connected';
			if (!this.connected) this.peers = [];
		});
	}

	close(): void {
		this.#presence?.destroy();
		const [provider, doc] = [this.#provider, this.#doc];
		if (provider) whenSettled(provider, () => (provider.destroy(), doc?.destroy()));
		this.#presence = null;
		this.#provider = null;
		this.#doc = null;
		this.projectId = null;
		this.peers = [];
		this.connected = false;
	}

	/** Publishes this user's panel, scene and asset (throttled). */
	set(patch: Partial<PresenceFields>): void {
		Object.assign(this.#local, patch);
		this.#presence?.set(patch);
	}
}

export const projectPresence = new ProjectPresence();
