import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SvelteKitPWAOptions } from '@vite-pwa/sveltekit';

const THEME = '#111318';
const root = fileURLToPath(new URL('.', import.meta.url));

function listFiles(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		return entry.isDirectory() ? listFiles(path) : [path];
	});
}

/**
 * Revision of the SPA fallback (index.html) in the precache manifest.
 * The plugin's default hashes `_app/version.json`, which never changes because Kit's version is
 * pinned to the package version; hashing the content-hashed asset names and app.html instead
 * changes whenever index.html would.
 */
async function fallbackRevision(): Promise<string> {
	const immutable = join(root, '.svelte-kit/output/client/_app/immutable');
	const hash = createHash('sha256');
	for (const file of listFiles(immutable).map((f) => relative(immutable, f)).sort()) hash.update(file);
	hash.update(readFileSync(join(root, 'src/app.html')));
	return hash.digest('hex').slice(0, 32);
}

export const pwaOptions: Partial<SvelteKitPWAOptions> = {
	strategies: 'generateSW',
	// Absolute: the studio has nested addresses (/projects/…), where a relative ./sw.js would miss.
	base: '/',
	scope: '/',
	registerType: 'autoUpdate',
	injectRegister: false, // registered from src/routes/+layout.svelte
	filename: 'sw.js',
	manifestFilename: 'manifest.webmanifest',
	manifest: {
		id: '/',
		name: 'Mediastudio',
		short_name: 'Mediastudio',
		description: 'Self-hostable generative media studio',
		start_url: '/',
		scope: '/',
		display: 'standalone',
		orientation: 'any',
		background_color: THEME,
		theme_color: THEME,
		icons: [
			{ src: '/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
			{ src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
			{ src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' }
		]
	},
	workbox: {
		navigateFallback: 'index.html',
		// The API (REST, OpenAPI docs, WebSockets) is never served from the cache or the app shell.
		navigateFallbackDenylist: [/^\/api(\/|$)/],
		globPatterns: ['client/**/*.{js,css,ico,png,svg,webp,webmanifest}'],
		// An (empty) modifyURLPrefix stops the plugin adding a `prerendered/**` pattern that an SPA
		// never matches (a build warning); the plugin still strips the `client/` prefix itself.
		modifyURLPrefix: {},
		// autoUpdate: a new version takes over open tabs at once (the plugin only sets these when it
		// injects the registration itself).
		skipWaiting: true,
		clientsClaim: true,
		cleanupOutdatedCaches: true
	},
	kit: {
		adapterFallback: 'index.html',
		includeVersionFile: false,
		spa: { fallbackRevision }
	},
	devOptions: { enabled: false }
};
