// Unit tests of the UI's logic modules (`npm run test:unit`). Kept apart from vite.config.ts so the
// build keeps its own plugins: only Kit's plugin is needed here ($lib, and the .svelte.ts runes).
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	test: {
		include: ['src/**/*.test.ts'],
		environment: 'node'
	}
});
