import { describe, expect, it } from 'vitest';
import { MODE_CARDS, modeTitle, reachNote } from './modes';

describe('studio modes', () => {
	it('lists solo, team and class in that order', () => {
		expect(MODE_CARDS.map((card) => card.mode)).toEqual(['solo', 'team', 'class']);
		expect(modeTitle('team')).toBe('My team on our network');
	});

	it('says others cannot reach a team or class studio that listens on loopback only', () => {
		const loopback = { listens_beyond_loopback: false };
		expect(reachNote('team', loopback)).toContain('--host 0.0.0.0');
		expect(reachNote('class', loopback)).toContain('Others cannot reach');
		expect(reachNote('solo', loopback)).toBeNull();
	});

	it('says a solo studio listening beyond this machine shows its login page to others', () => {
		const beyond = { listens_beyond_loopback: true };
		expect(reachNote('solo', beyond)).toContain('without --host');
		expect(reachNote('team', beyond)).toBeNull();
		expect(reachNote(null, beyond)).toBeNull();
		expect(reachNote('team', null)).toBeNull();
	});
});
