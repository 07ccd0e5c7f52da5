import { describe, expect, it } from 'vitest';
import type { Commit } from '$lib/api/history';
import { commitDetail, commitTitle, kindInfo } from './commitKind';

function commit(extra: Partial<Commit>): Commit {
	return {
		sha: 'a'.repeat(40),
		short: 'aaaaaaa',
		message: 'Edited',
		kind: 'edit',
		label: null,
		restored_from: null,
		summary: "Changed steps on 'Generate'",
		author: { id: 'u_1', name: 'Ana' },
		co_authors: [],
		time: '2026-01-01T00:00:00Z',
		...extra
	};
}

describe('commit titles', () => {
	it('leads a labelled version with its label, and says what changed under it', () => {
		const saved = commit({ kind: 'version', label: 'Client review', message: 'Saved version: Client review' });
		expect(commitTitle(saved)).toBe('“Client review”');
		expect(commitDetail(saved)).toBe("Changed steps on 'Generate'");
		expect(kindInfo(saved.kind).name).toBe('Version');
	});

	it('says which version a restore brought back', () => {
		const restore = commit({ kind: 'restore', restored_from: 'b'.repeat(40), summary: 'Deleted scene X' });
		expect(commitTitle(restore)).toBe('Restored version bbbbbbb');
		expect(commitDetail(restore)).toBe('Deleted scene X');
	});

	it('names generated assets and edits by what changed, once', () => {
		const generated = commit({ kind: 'generate', message: 'Generated 3 results', summary: 'Added 3 assets' });
		expect(kindInfo(generated.kind).name).toBe('Generated');
		expect(commitTitle(generated)).toBe('Added 3 assets');
		expect(commitDetail(generated)).toBeNull();
	});

	it('tells a project created from a template by its message', () => {
		const created = commit({ kind: 'created', message: "Created project 'Film' from the Blank template",
			summary: 'Created the project with 1 scene' });
		expect(commitTitle(created)).toBe("Created project 'Film' from the Blank template");
		expect(commitDetail(created)).toBe('Created the project with 1 scene');
	});
});
