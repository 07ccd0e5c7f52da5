import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RemeasureQueue } from './remeasure';

describe('RemeasureQueue', () => {
	let now = 0;
	let frames: (() => void)[] = [];
	const runFrames = () => {
		for (let i = 0; i < 2; i++) {
			const due = frames;
			frames = [];
			due.forEach((callback) => callback());
		}
	};
	const queue = () =>
		new RemeasureQueue({ settleMs: 200, maxWaitMs: 2000, batchMs: 100 }, () => now, (callback) => void frames.push(callback));
	const advance = (ms: number) => {
		now += ms;
		vi.advanceTimersByTime(ms);
	};

	beforeEach(() => {
		vi.useFakeTimers();
		now = 0;
		frames = [];
	});
	afterEach(() => vi.useRealTimers());

	it('draws the nodes that asked close together in full in one batch, then their plain cards two frames later', () => {
		const q = queue();
		const drawn: string[] = [];
		q.request('a', (full) => drawn.push(`a:${full}`));
		advance(40);
		q.request('b', (full) => drawn.push(`b:${full}`));
		advance(59);
		expect(drawn).toEqual([]);
		advance(1);
		expect(drawn).toEqual(['a:true', 'b:true']);
		runFrames();
		expect(drawn).toEqual(['a:true', 'b:true', 'a:false', 'b:false']);
		expect(q.waiting).toBe(0);
	});

	it('waits while the view moves, and for the view to stand still a moment', () => {
		const q = queue();
		const drawn: boolean[] = [];
		q.request('a', (full) => drawn.push(full));
		for (let t = 0; t < 10; t++) {
			advance(50);
			q.moved();
		}
		expect(drawn).toEqual([]);
		advance(199);
		expect(drawn).toEqual([]);
		advance(1);
		expect(drawn).toEqual([true]);
	});

	it('draws them at last while the view keeps moving', () => {
		const q = queue();
		const drawn: boolean[] = [];
		q.request('a', (full) => drawn.push(full));
		for (let t = 0; t < 50 && !drawn.length; t++) {
			q.moved();
			advance(50);
		}
		expect(drawn).toEqual([true]);
		expect(now).toBe(2000);
	});

	it('a withdrawn request draws nothing; a node that asks again is drawn once, with its latest callback', () => {
		const q = queue();
		const drawn: string[] = [];
		const withdraw = q.request('a', () => drawn.push('first'));
		withdraw();
		q.request('b', () => drawn.push('b'));
		const stale = q.request('b', () => drawn.push('b again'));
		q.request('b', () => drawn.push('b latest'));
		stale(); // an older request of b withdrawn after a newer one: the newer one stays
		advance(100);
		expect(drawn).toEqual(['b latest']);
	});
});
