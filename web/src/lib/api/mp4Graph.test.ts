import { describe, expect, it } from 'vitest';
import { GRAPH_UUID, graphBoxOf, isMp4 } from './mp4Graph';

function box(kind: string, body: Uint8Array): Uint8Array {
	const out = new Uint8Array(8 + body.length);
	new DataView(out.buffer).setUint32(0, out.length);
	out.set([...kind].map((c) => c.charCodeAt(0)), 4);
	out.set(body, 8);
	return out;
}

const uuid = Uint8Array.from(GRAPH_UUID.match(/../g)!.map((h) => parseInt(h, 16)));
const text = (s: string) => new TextEncoder().encode(s);
const join = (...parts: Uint8Array[]) => new Blob(parts as BlobPart[]);

describe('the graph box of a clip', () => {
	const ftyp = box('ftyp', text('isom\0\0\0\0'));
	const mdat = box('mdat', new Uint8Array(5000));
	const graph = box('uuid', Uint8Array.from([...uuid, ...text('{"nodes":{}}')]));

	it('finds the box at the end of a clip, sending only it', async () => {
		const clip = join(ftyp, mdat, box('moov', new Uint8Array(40)), graph);
		expect(await isMp4(clip)).toBe(true);
		const found = await graphBoxOf(clip);
		expect(found?.size).toBe(graph.length);
		expect(new Uint8Array(await found!.arrayBuffer())).toEqual(graph);
	});

	it('answers null for a clip without one, another uuid box, or broken boxes', async () => {
		expect(await graphBoxOf(join(ftyp, mdat))).toBeNull();
		expect(await graphBoxOf(join(ftyp, box('uuid', new Uint8Array(20))))).toBeNull();
		const broken = box('mdat', new Uint8Array(10));
		new DataView(broken.buffer).setUint32(0, 1 << 30);
		expect(await graphBoxOf(join(ftyp, broken, graph))).toBeNull();
		expect(await isMp4(new Blob([text('{"nodes": {}}')]))).toBe(false);
	});
});
