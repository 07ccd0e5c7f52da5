/** Everyone else's presence, as the scene canvas hears it: real Yjs awareness instances exchanging updates. */
import { describe, expect, it } from 'vitest';
import { Awareness, applyAwarenessUpdate, encodeAwarenessUpdate } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { watchPeers, type Peer } from './awareness';

const ana = { id: 'u1', name: 'Ana', color: '#f00' };
const bob = { id: 'u2', name: 'Bob', color: '#00f' };

/** Two browsers' presence; what one publishes reaches the other as the server relays it. */
function pair() {
	const mine = new Awareness(new Y.Doc());
	const theirs = new Awareness(new Y.Doc());
	mine.setLocalState({ user: ana, cursor: null });
	theirs.setLocalState({ user: bob, cursor: null });
	const relay = () => applyAwarenessUpdate(mine, encodeAwarenessUpdate(theirs, [theirs.clientID]), 'server');
	relay();
	return { mine, theirs, relay };
}

describe('watchPeers', () => {
	it("this browser's own pointer moving (many times a second while panning) tells nothing", () => {
		const { mine } = pair();
		const heard: Peer[][] = [];
		const stop = watchPeers(mine, (peers) => heard.push(peers));
		for (let x = 0; x < 5; x++) mine.setLocalState({ ...mine.getLocalState(), cursor: { x, y: 0 } });
		expect(heard).toEqual([]);
		stop();
	});

	it("someone else's pointer moving, joining or leaving tells everyone else's states", () => {
		const { mine, theirs, relay } = pair();
		const heard: Peer[][] = [];
		const stop = watchPeers(mine, (peers) => heard.push(peers));
		theirs.setLocalState({ ...theirs.getLocalState(), cursor: { x: 40, y: 20 } });
		relay();
		expect(heard).toHaveLength(1);
		expect(heard[0]!.map((peer) => [peer.user.name, peer.cursor])).toEqual([['Bob', { x: 40, y: 20 }]]);
		theirs.setLocalState(null);
		relay();
		expect(heard).toHaveLength(2);
		expect(heard[1]).toEqual([]);
		stop();
		theirs.setLocalState({ user: bob, cursor: { x: 1, y: 1 } });
		relay();
		expect(heard).toHaveLength(2); // stopped
	});
});
