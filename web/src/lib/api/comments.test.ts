import { describe, expect, it } from 'vitest';
import { mentionParts, type Comment } from './comments';

function comment(body: string, usernames: string[]): Comment {
	return {
		id: 'cm_1',
		author: null,
		body,
		mentions: usernames.map((username) => ({ id: `u_${username}`, username, display_name: username, color: '#fff' })),
		created_at: '2026-01-01T00:00:00Z',
		edited_at: null
	};
}

describe('mentionParts', () => {
	it('draws only the members a comment mentions as mentions', () => {
		const parts = mentionParts(comment('@bea look, @eve too. Mail me@bea.org', ['bea']));
		expect(parts).toEqual([
			{ text: '@bea', mention: true },
			{ text: ' look, @eve too. Mail me@bea.org', mention: false }
		]);
	});

	it('keeps markup as plain text', () => {
		const parts = mentionParts(comment('<img src=x onerror=alert(1)> @Bea.', ['bea']));
		expect(parts.map((p) => p.text).join('')).toBe('<img src=x onerror=alert(1)> @Bea.');
		expect(parts.filter((p) => p.mention)).toEqual([{ text: '@Bea', mention: true }]);
	});
});
