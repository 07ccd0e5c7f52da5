import { describe, expect, it } from 'vitest';
import { FrameBatch } from './frameBatch';

function manual() {
	const queued: (() => void)[] = [];
	const schedule = (run: () => void) => {
		queued.push(run);
		return () => queued.splice(queued.indexOf(run), 1);
	};
	return { schedule, frame: () => queued.splice(0).forEach((run) => run()), queued };
}

const union = (pending: Set<string> | null, more: Set<string>) => new Set([...(pending ?? []), ...more]);

describe('FrameBatch', () => {
	it('applies the changes that arrive between two frames once, together', () => {
		const clock = manual();
		const applied: string[][] = [];
		const batch = new FrameBatch(union, (all) => applied.push([...all]), clock.schedule);
		batch.later(new Set(['a']));
		batch.later(new Set(['b']));
		batch.later(new Set(['a']));
		expect(applied).toEqual([]);
		expect(clock.queued).toHaveLength(1);
		clock.frame();
		expect(applied).toEqual([['a', 'b']]);
		clock.frame();
		expect(applied).toHaveLength(1);
	});

	it('applies what waits before a change that cannot wait, in one go, and nothing at the frame', () => {
		const clock = manual();
		const applied: string[][] = [];
		const batch = new FrameBatch(union, (all) => applied.push([...all]), clock.schedule);
		batch.later(new Set(['remote']));
		batch.now(new Set(['mine']));
		expect(applied).toEqual([['remote', 'mine']]);
		expect(clock.queued).toHaveLength(0);
		expect(batch.waiting).toBe(false);
	});

	it('forgets what waits when dropped', () => {
		const clock = manual();
		const applied: string[][] = [];
		const batch = new FrameBatch(union, (all) => applied.push([...all]), clock.schedule);
		batch.later(new Set(['a']));
		batch.drop();
		clock.frame();
		batch.now();
		expect(applied).toEqual([]);
	});
});
