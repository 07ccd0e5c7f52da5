// Writes a brotli (.br) and a gzip (.gz) copy beside each text file of the build, for the server to send to
// browsers that accept them (src/mediastudio/ui.py picks one by Accept-Encoding). Runs after `vite build`, once
// every file of the build (the service worker included) is written. A copy that would not save at least a tenth
// of the file is not written; the output is the same for the same build (fixed levels, no timestamps).
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, extname } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const root = new URL('../../web_dist/', import.meta.url).pathname;
const TEXT = new Set(['.js', '.mjs', '.css', '.html', '.json', '.svg', '.webmanifest', '.txt', '.map']);
const SMALLEST = 1024; // below this the headers weigh as much as the saving

function* files(folder) {
	for (const entry of readdirSync(folder, { withFileTypes: true })) {
		const path = join(folder, entry.name);
		if (entry.isDirectory()) yield* files(path);
		else if (entry.isFile()) yield path;
	}
}

let written = 0;
let before = 0;
let after = 0;
const all = [...files(root)].sort();
for (const path of all) {
	if (path.endsWith('.br') || path.endsWith('.gz')) unlinkSync(path); // a copy from an earlier build is never trusted
}
for (const path of all) {
	if (path.endsWith('.br') || path.endsWith('.gz')) continue;
	if (!TEXT.has(extname(path)) || statSync(path).size < SMALLEST) continue;
	const data = readFileSync(path);
	const copies = {
		'.br': brotliCompressSync(data, {
			params: {
				[constants.BROTLI_PARAM_QUALITY]: 11,
				[constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
				[constants.BROTLI_PARAM_SIZE_HINT]: data.length
			}
		}),
		'.gz': gzipSync(data, { level: 9 })
	};
	for (const [suffix, packed] of Object.entries(copies)) {
		if (packed.length > data.length * 0.9) continue;
		writeFileSync(path + suffix, packed);
		written += 1;
		if (suffix === '.br') {
			before += data.length;
			after += packed.length;
		}
	}
}
console.log(`precompressed ${written} copies: ${(before / 1024).toFixed(0)} KiB → ${(after / 1024).toFixed(0)} KiB with brotli`);
