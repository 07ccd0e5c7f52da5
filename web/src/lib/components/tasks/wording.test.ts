import { describe, expect, it } from 'vitest';
import { logTime, stoppingText, timeLeftText } from './wording';

describe('timeLeftText', () => {
	it('says "starting…" while nothing is measured, never a made-up few seconds', () => {
		expect(timeLeftText(null)).toBe('starting…');
	});

	it('says the measured time left', () => {
		expect(timeLeftText(40)).toBe('about 40 s left');
		expect(timeLeftText(0.4)).toBe('almost done');
	});
});

describe('stoppingText', () => {
	it('says a cancel waits for the step, and about how long from the measured step time', () => {
		expect(stoppingText({ step_seconds: 11.2 })).toBe('stopping after this step, about 12 s');
		expect(stoppingText({ step_seconds: 0.3 })).toBe('stopping after this step, about 1 s');
		expect(stoppingText({ step_seconds: null })).toBe('stopping after this step…');
	});
});

describe('logTime', () => {
	it('says a log line\'s local time to the second', () => {
		const at = new Date(2026, 11, 5, 9, 4, 7);
		expect(logTime(at.toISOString())).toBe('09:04:07');
	});

	it('keeps what is no time as it is', () => {
		expect(logTime('not a time')).toBe('not a time');
	});
});
