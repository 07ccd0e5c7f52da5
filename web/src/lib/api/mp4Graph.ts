/**
 * The graph box of an MP4 the studio generated (the server's graph/mp4.py writes it: a top-level `uuid` box of
 * the studio's own at the end of the file). A dropped clip may be far larger than a workflow file, so only its
 * box is sent to be read: the top-level boxes are walked by their headers (a few small reads of the file, at most
 * MAX_BOXES), and the server checks what it gets as it checks any dropped file.
 */

export const GRAPH_UUID = '15efc68f73cd59ff8ba2fb9cf30c49f8';
const MAX_BOXES = 10_000;

async function read(file: Blob, start: number, end: number): Promise<Uint8Array> {
	return new Uint8Array(await file.slice(start, end).arrayBuffer());
}

const ascii = (bytes: Uint8Array) => String.fromCharCode(...bytes);
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

/** Whether the file is an MP4 (an ISO BMFF file: its first box is `ftyp`). */
export async function isMp4(file: Blob): Promise<boolean> {
	const head = await read(file, 0, 8);
	return head.length === 8 && ascii(head.subarray(4, 8)) === 'ftyp';
}

/** The studio's graph box of a clip (the whole box, header included), or null when it holds none or its boxes
 * are broken. */
export async function graphBoxOf(file: Blob): Promise<Blob | null> {
	let at = 0;
	for (let count = 0; count < MAX_BOXES && at + 8 <= file.size; count++) {
		const head = await read(file, at, at + 32);
		const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
		let size = view.getUint32(0);
		let header = 8;
		if (size === 1) {
			if (head.length < 16) return null;
			size = Number(view.getBigUint64(8));
			header = 16;
		} else if (size === 0) size = file.size - at;
		if (size < header || at + size > file.size) return null;
		if (ascii(head.subarray(4, 8)) === 'uuid' && hex(head.subarray(header, header + 16)) === GRAPH_UUID) {
			return file.slice(at, at + size);
		}
		at += size;
	}
	return null;
}
