import { describe, expect, it } from 'vitest';
import type { Task } from '$lib/api/tasks';
import { currentRun, settledNodes, showsReceived, waitingAfter } from './runState';

function run(id: string, status: string, nodes: Record<string, object> = {}): Task {
	return { id, status, detail: { nodes } } as unknown as Task;
}

describe('currentRun', () => {
	it('follows the running run of a batch, not its newest waiting one', () => {
		const history = [run('c', 'queued'), run('b', 'queued'), run('a', 'running')];
		expect(currentRun(history)?.id).toBe('a');
		expect(waitingAfter(history, currentRun(history))).toBe(2);
	});

	it('then the next to start, then the newest', () => {
		expect(currentRun([run('c', 'queued'), run('b', 'queued'), run('a', 'succeeded')])?.id).toBe('b');
		expect(currentRun([run('b', 'failed'), run('a', 'succeeded')])?.id).toBe('b');
		expect(currentRun([])).toBeNull();
	});
});

describe('settledNodes', () => {
	const nodes = { load: { state: 'done' }, gen: { state: 'running', step: 1, total: 4 }, shot: { state: 'waiting' } };

	it('leaves a running run as reported', () => {
		expect(settledNodes(run('a', 'running', nodes))).toEqual(nodes);
	});

	it('never leaves an ended run waiting or running', () => {
		const failed = settledNodes(run('a', 'failed', nodes));
		expect(failed['shot']?.state).toBe('skipped');
		expect(failed['gen']?.state).toBe('skipped');
		expect(settledNodes(run('a', 'cancelled', nodes))['gen']?.state).toBe('cancelled');
		const done = settledNodes(run('a', 'succeeded', nodes));
		expect(Object.values(done).map((n) => n.state)).toEqual(['done', 'done', 'done']);
		expect(done['gen']?.step).toBe(1); // the step count is not shown for a done node
	});
});

describe('showsReceived', () => {
	it('shows a shot the picture it received unless the run did not keep it there', () => {
		expect(showsReceived(undefined)).toBe(true); // no run yet: what its input shows
		expect(showsReceived({ state: 'waiting' })).toBe(true);
		expect(showsReceived({ state: 'done' })).toBe(true);
		expect(showsReceived({ state: 'error', error: 'Your storage quota is used up' })).toBe(false);
		expect(showsReceived({ state: 'cancelled' })).toBe(false);
		expect(showsReceived({ state: 'skipped' })).toBe(false);
	});
});
