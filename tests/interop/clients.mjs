// Two Node yjs + y-websocket clients on one Mediastudio scene room. Usage:
//   node clients.mjs <ws base e.g. ws://127.0.0.1:PORT/api/v1/projects/P/scenes> <scene id> <cookie header>
// Client A sets a param and types into a prompt; client B must see both. Prints one JSON line.
import WebSocket from 'ws';
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';

const [base, scene, cookie] = process.argv.slice(2);
class CookieSocket extends WebSocket {
	constructor(url, protocols) {
		super(url, protocols, { headers: { Cookie: cookie } });
	}
}
const connect = () => {
	const doc = new Y.Doc();
	const provider = new WebsocketProvider(base, `${scene}/sync`, doc, {
		WebSocketPolyfill: CookieSocket,
		disableBc: true
	});
	return { doc, provider };
};
const synced = ({ provider }) =>
	new Promise((resolve) => (provider.synced ? resolve() : provider.once('sync', resolve)));
const deadline = setTimeout(() => {
	console.log(JSON.stringify({ ok: false, error: 'timeout' }));
	process.exit(2);
}, 15000);

const a = connect();
const b = connect();
await Promise.all([synced(a), synced(b)]);
const nodes = a.doc.getMap('nodes');
const generate = nodes.get('generate');
const before = generate.get('params').get('steps');
a.doc.transact(() => {
	generate.get('params').set('steps', 55);
	generate.get('params').get('text')?.insert(0, '');
	nodes.get('prompt').get('params').get('text').insert(0, 'Node says: ');
});
const seen = await new Promise((resolve) => {
	const check = () => {
		const params = b.doc.getMap('nodes').get('generate')?.get('params');
		const text = b.doc.getMap('nodes').get('prompt')?.get('params')?.get('text')?.toString();
		if (params?.get('steps') === 55 && text?.startsWith('Node says: ')) resolve({ steps: 55, text });
	};
	b.doc.on('update', check);
	check();
});
clearTimeout(deadline);
console.log(JSON.stringify({ ok: true, before, ...seen }));
a.provider.destroy();
b.provider.destroy();
process.exit(0);
