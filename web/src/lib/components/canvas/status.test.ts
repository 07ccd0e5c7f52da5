import { describe, expect, it } from 'vitest';
import { sameStatus, type NodeStatus } from './status';

describe('sameStatus', () => {
	const status = (extra: Partial<NodeStatus> = {}): NodeStatus => ({ state: 'running', step: 3, total: 20, preview: null, problems: ['No model'], ...extra });

	it('a fresh status that says the same is the same (every check of the scene hands out fresh ones)', () => {
		expect(sameStatus(status(), status())).toBe(true);
		expect(sameStatus(undefined, undefined)).toBe(true);
		expect(sameStatus(status({ preview: undefined }), status({ preview: null }))).toBe(true);
	});

	it('any field that shows differs', () => {
		expect(sameStatus(status(), undefined)).toBe(false);
		expect(sameStatus(undefined, status())).toBe(false);
		for (const change of [{ state: 'done' }, { step: 4 }, { total: 30 }, { error: 'Out of memory' }, { preview: '/a.png' }, { problems: [] }, { problems: ['No prompt'] }] as Partial<NodeStatus>[]) {
			expect(sameStatus(status(), status(change)), JSON.stringify(change)).toBe(false);
		}
	});
});
