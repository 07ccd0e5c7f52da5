import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS, handoffBody } from './handoff';

describe('handoffBody', () => {
	it('sends a sheet its format, scenes (all when none is chosen) and page grid', () => {
		expect(handoffBody('sheet', { ...DEFAULT_OPTIONS, format: 'png' })).toEqual({
			format: 'png',
			scene_ids: null,
			columns: 4,
			rows: 3,
			still_seconds: 2
		});
		expect(handoffBody('sheet', { ...DEFAULT_OPTIONS, sceneIds: ['sc_a'] })).toMatchObject({ scene_ids: ['sc_a'] });
	});

	it('sends a sequence and an animatic their scene, and only the fields they take', () => {
		const options = { ...DEFAULT_OPTIONS, sceneId: 'sc_b', frames: 'timed' as const, fps: 12 };
		expect(handoffBody('sequence', options)).toEqual({
			scene_id: 'sc_b',
			frames: 'timed',
			fps: 12,
			size: '1280x720',
			still_seconds: 2
		});
		expect(handoffBody('animatic', options)).toEqual({ scene_id: 'sc_b', fps: 12, size: '1280x720', still_seconds: 2 });
	});

	it('keeps numbers within what the server accepts', () => {
		const body = handoffBody('sheet', { ...DEFAULT_OPTIONS, columns: 40, rows: 0, stillSeconds: Number.NaN });
		expect(body).toMatchObject({ columns: 6, rows: 1, still_seconds: 2 });
		expect(handoffBody('animatic', { ...DEFAULT_OPTIONS, fps: 240, stillSeconds: 0 })).toMatchObject({
			fps: 60,
			still_seconds: 0.1
		});
	});
});
