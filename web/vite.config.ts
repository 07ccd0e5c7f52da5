import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { createLogger, defineConfig } from 'vite';
import { pwaOptions } from './pwa.config';

// `mediastudio serve` listens here by default; MEDIASTUDIO_API points the dev server elsewhere.
const apiTarget = process.env.MEDIASTUDIO_API ?? 'http://127.0.0.1:8750';
const proxy = { '/api': { target: apiTarget, ws: true } };

// Svelte Flow's modules import helpers from @xyflow/system that its own build leaves unused; Rollup
// notes it on every build (a fact about the dependency, not our code), so the build stays warning-free.
const logger = createLogger();
const warn = logger.warn.bind(logger);
logger.warn = (message, options) => {
	if (message.includes('imported from external module "@xyflow/system" but never used')) return;
	warn(message, options);
};

export default defineConfig({
	customLogger: logger,
	plugins: [tailwindcss(), sveltekit(), SvelteKitPWA(pwaOptions)],
	server: { proxy },
	preview: { proxy },
	build: { reportCompressedSize: true }
});
