import { describe, expect, it } from 'vitest';
import { frameRate } from './frameRate';

describe('frameRate', () => {
	it('steps by the rate the file says', () => {
		expect(frameRate(30)).toEqual({ fps: 30, text: '30 fps' });
		expect(frameRate(24000 / 1001)).toEqual({ fps: 24000 / 1001, text: '23.976 fps' });
	});

	it('assumes 24 and says so when the file says none', () => {
		for (const said of [null, undefined, 0, -5]) expect(frameRate(said)).toEqual({ fps: 24, text: '24 fps (assumed)' });
	});
});
