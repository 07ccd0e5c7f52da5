import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { toasts } from './toasts.svelte';

describe('toasts', () => {
	beforeEach(() => vi.useFakeTimers());
	afterEach(() => {
		for (const toast of [...toasts.items]) toasts.dismiss(toast.id);
		vi.useRealTimers();
	});

	it('a keyed toast is one notice that changes in place, not a stack', () => {
		const first = toasts.show({ tone: 'info', title: 'Uploading 5 files… 0 done', key: 'uploads', sticky: true });
		toasts.show({ tone: 'info', title: 'Something else' });
		for (let done = 1; done <= 4; done++) toasts.show({ tone: 'info', title: `Uploading 5 files… ${done} done`, key: 'uploads', sticky: true });
		expect(toasts.items.map((toast) => toast.title)).toEqual(['Uploading 5 files… 4 done', 'Something else']);
		expect(toasts.items[0]?.id).toBe(first);
	});

	it('a sticky toast stays until it is replaced, and then leaves like any other', () => {
		toasts.show({ tone: 'info', title: 'Uploading 2 files… 1 done', key: 'uploads', sticky: true });
		vi.advanceTimersByTime(60_000);
		expect(toasts.items).toHaveLength(1);
		toasts.show({ tone: 'success', title: 'Uploaded 2 files', key: 'uploads' });
		vi.advanceTimersByTime(60_000);
		expect(toasts.items).toHaveLength(0);
	});

	it('toasts without a key still stack, the newest four shown', () => {
		for (let i = 1; i <= 6; i++) toasts.show({ tone: 'success', title: `Export ${i} finished` });
		expect(toasts.items.map((toast) => toast.title)).toEqual(['Export 3 finished', 'Export 4 finished', 'Export 5 finished', 'Export 6 finished']);
	});
});
