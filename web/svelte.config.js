import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';
import { readFileSync } from 'node:fs';

// A fixed version name (the package version) keeps two builds of the same source byte-identical;
// Kit's default is a timestamp.
const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		adapter: adapter({
			pages: '../web_dist',
			assets: '../web_dist',
			fallback: 'index.html',
			precompress: false,
			strict: true
		}),
		version: { name: version, pollInterval: 0 },
		// The PWA plugin registers the service worker; Kit's own would compete with it.
		serviceWorker: { register: false }
	}
};

export default config;
