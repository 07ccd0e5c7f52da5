import { describe, expect, it } from 'vitest';
import type { Task } from '$lib/api/tasks';
import { LONG_TASK_MS, noticeFor } from './notices';

const ASKED = Date.parse('2026-12-05T10:00:00Z');

function task(status: Task['status'], tookMs: number, extra: Partial<Task> = {}): Task {
	const finished = new Date(ASKED + tookMs).toISOString();
	return {
		id: 'ts_1',
		kind: 'scene.run',
		title: 'Run Shot 1',
		status,
		project_id: 'pr_1',
		created_at: new Date(ASKED).toISOString(),
		updated_at: finished,
		finished_at: finished,
		...extra
	} as Task;
}

const away = { hidden: true, allowed: true, askedAt: ASKED };

describe('which finished tasks make a browser notification', () => {
	it('a long run that ends while the tab is hidden does, with what its toast says and where to go', () => {
		const said = { title: 'Run Shot 1 finished', detail: '2 pictures', link: { href: '/projects/pr_1/assets/as_9' } };
		expect(noticeFor(task('succeeded', LONG_TASK_MS), said, away)).toEqual({
			title: 'Run Shot 1 finished',
			body: '2 pictures',
			tag: 'mediastudio-task-ts_1',
			href: '/projects/pr_1/assets/as_9'
		});
	});

	it('a failure does too, and without a link it leads to the project', () => {
		const notice = noticeFor(task('failed', 60_000), { title: 'Run Shot 1 failed', detail: 'Out of memory' }, away);
		expect(notice).toMatchObject({ body: 'Out of memory', href: '/projects/pr_1' });
	});

	it('none while the person looks at the tab, has not turned them on, or the browser refuses them', () => {
		const said = { title: 'Run Shot 1 finished' };
		expect(noticeFor(task('succeeded', 60_000), said, { ...away, hidden: false })).toBeNull();
		expect(noticeFor(task('succeeded', 60_000), said, { ...away, allowed: false })).toBeNull();
	});

	it('none for a short task, one they cancelled, or one not yet ended', () => {
		const said = { title: 'x' };
		expect(noticeFor(task('succeeded', LONG_TASK_MS - 1), said, away)).toBeNull();
		expect(noticeFor(task('cancelled', 60_000), said, away)).toBeNull();
		expect(noticeFor(task('running', 60_000), said, away)).toBeNull();
	});

	it('the wait in the queue counts: a batch asked for long ago is long even if its last run was quick', () => {
		const quick = task('succeeded', LONG_TASK_MS + 5_000, { created_at: new Date(ASKED + 10_000).toISOString() });
		expect(noticeFor(quick, { title: 'Run ×4 finished' }, { ...away, askedAt: ASKED + 10_000 })).toBeNull();
		expect(noticeFor(quick, { title: 'Run ×4 finished' }, away)).not.toBeNull();
	});
});
