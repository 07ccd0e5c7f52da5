/**
 * Guards a provider whose document was loaded from this device's copy (IndexedDB): on every new
 * connection, nothing local is sent and nothing remote is applied until the server's first full
 * answer (sync step 2) shows the document is of the same epoch. If the server rebuilt the document
 * (its update log was lost: a new `meta.epoch`), merging the old copy in would corrupt it, so
 * `onstale` is called instead and the caller drops the local copy and starts again.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { messageSync, type WebsocketProvider } from 'y-websocket';
import { epochOf } from './model';

type Handler = WebsocketProvider['messageHandlers'][number];

/** The epoch an update sets, if it sets one (a rebuilt document always does: it is all new). */
function epochIn(update: Uint8Array): number | null {
	const scratch = new Y.Doc();
	try {
		Y.applyUpdate(scratch, update);
		return epochOf(scratch);
	} catch {
		return null;
	} finally {
		scratch.destroy();
	}
}

export function guardEpoch(provider: WebsocketProvider, localEpoch: () => number | null, onstale: () => void): void {
	const original = provider.messageHandlers[messageSync] as Handler;
	let verified = false;
	let serverStep1: Uint8Array | null = null; // the server's state vector, answered once verified
	let held: Uint8Array[] = []; // live updates that arrived before the verdict

	let mine: number | null = null;
	provider.on('status', ({ status }) => {
		// Each connection is checked anew (the server may have been rebuilt meanwhile); one to a
		// document with nothing of the server's in it yet has nothing to check.
		mine = status === 'connected' ? localEpoch() : null;
		verified = mine === null;
		serverStep1 = null;
		held = [];
	});

	// Nor do this user's edits go out live meanwhile (to a rebuilt server they would carry the old
	// copy in after all); once verified, the answer to the server's step 1 sends them.
	const send = provider._updateHandler;
	provider.doc.off('update', send);
	provider._updateHandler = (update, origin) => {
		if (verified) send(update, origin);
	};
	provider.doc.on('update', provider._updateHandler);

	provider.messageHandlers[messageSync] = (encoder, decoder, prov, emitSynced, messageType) => {
		if (verified) return original(encoder, decoder, prov, emitSynced, messageType);
		const kind = decoding.readVarUint(decoder);
		const payload = decoding.readVarUint8Array(decoder);
		if (kind === syncProtocol.messageYjsSyncStep1) {
			serverStep1 = payload;
			return;
		}
		if (kind === syncProtocol.messageYjsUpdate) {
			held.push(payload);
			return;
		}
		const theirs = epochIn(payload);
		if (theirs !== null && theirs !== mine) {
			onstale();
			return;
		}
		verified = true;
		Y.transact(provider.doc, () => {
			Y.applyUpdate(provider.doc, payload, provider);
			for (const update of held) Y.applyUpdate(provider.doc, update, provider);
		}, provider);
		held = [];
		if (emitSynced) provider.synced = true;
		if (serverStep1) {
			// What this device has that the server lacks (offline edits), now that it is safe to send.
			encoding.writeVarUint(encoder, messageSync);
			syncProtocol.writeSyncStep2(encoder, provider.doc, serverStep1);
			serverStep1 = null;
		}
	};
}
