import { sveltekit } from '@sveltejs/kit/vite';
import tailwindcss from '@tailwindcss/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { defineConfig } from 'vite';
import { pwaOptions } from './pwa.config';

// `mediastudio serve` listens here by default; MEDIASTUDIO_API points the dev server elsewhere.
const apiTarget = process.env.MEDIASTUDIO_API ?? 'http://127.0.0.1:8750';
const proxy = { '/api': { target: apiTarget, ws: true } };

export default defineConfig({
	plugins: [tailwindcss(), sveltekit(), SvelteKitPWA(pwaOptions)],
	server: { proxy },
	preview: { proxy },
	build: { reportCompressedSize: true }
});
