import { describe, expect, it } from 'vitest';
import { done, nextStep, opening, position, previousStep, promptsOf, settle, STEPS, targetOf, type Observed, type TourContext } from './steps';

const editor: TourContext = { canEdit: true, hasModel: true, isAdmin: false, tabbed: false };
const viewer: TourContext = { ...editor, canEdit: false };
const index = (id: string) => STEPS.findIndex((step) => step.id === id);
const seen: Observed = { nodes: 2, edges: 1, prompts: 'a:dusk', run: 'task-1', centerView: 'scene' };

describe('the tour steps', () => {
	it('cover the panels, adding and connecting nodes, a prompt, a run, the result and its provenance', () => {
		expect(STEPS.map((step) => step.id)).toEqual([
			'welcome', 'browser', 'canvas', 'palette', 'connect', 'prompt', 'run', 'progress', 'result', 'provenance', 'help'
		]);
		for (const step of STEPS) {
			expect(step.body(editor).length).toBeGreaterThan(20);
			if (step.watch) expect(step.task).toBeTruthy();
		}
	});

	it('walk forward and back through every step for an editor', () => {
		let at = settle(0, editor);
		const visited = [at];
		while (at < STEPS.length) visited.push((at = nextStep(at, editor)));
		expect(visited).toEqual([...STEPS.keys(), STEPS.length]);
		expect(previousStep(index('connect'), editor)).toBe(index('palette'));
		expect(previousStep(0, editor)).toBe(0);
		expect(position(index('run'), editor)).toEqual({ n: 7, m: STEPS.length });
	});

	it('leave out the editing steps for a read-only viewer', () => {
		expect(nextStep(index('canvas'), viewer)).toBe(index('progress'));
		expect(previousStep(index('progress'), viewer)).toBe(index('canvas'));
		expect(settle(index('palette'), viewer)).toBe(index('progress')); // a step saved as an editor
		expect(position(index('progress'), viewer)).toEqual({ n: 4, m: STEPS.length - 4 });
		expect(STEPS[0]!.body(viewer)).toContain('viewer');
	});

	it('clamp a stored step that is out of range or not a number', () => {
		expect(settle(-3, editor)).toBe(0);
		expect(settle(99, editor)).toBe(STEPS.length);
		expect(settle(Number.NaN, editor)).toBe(0);
		expect(settle(2.7, editor)).toBe(2);
	});

	it('say so when no model is installed, and where models are added', () => {
		const run = STEPS[index('run')]!;
		expect(run.body({ ...editor, hasModel: false })).toContain('No model is installed');
		expect(run.body({ ...editor, hasModel: false, isAdmin: true })).toContain('add one');
		expect(run.body({ ...editor, hasModel: false })).toContain('administrator');
		expect(run.body(editor)).not.toContain('No model');
		expect(targetOf(run, { ...editor, hasModel: false })).toBe('[data-testid="no-model-notice"]');
		expect(targetOf(run, editor)).toBe('[data-testid="run-scene"]');
		expect(targetOf(run, { ...editor, hasModel: null })).toBe('[data-testid="run-scene"]');
	});
});

describe('opening the studio', () => {
	it('starts the tour for someone new, offers to resume one under way, leaves a finished one alone', () => {
		expect(opening('new', false)).toBe('start');
		expect(opening('active', false)).toBe('offer');
		expect(opening('done', false)).toBe('none');
		expect(opening('skipped', false)).toBe('none');
	});

	it('starts it whenever it was asked for from the menu', () => {
		for (const status of ['new', 'active', 'done', 'skipped'] as const) expect(opening(status, true)).toBe('start');
	});
});

describe('watching real actions', () => {
	it('sees a node added, an edge connected, a prompt typed, a run started, the Asset View opened', () => {
		expect(done('node-added', seen, { ...seen, nodes: 3 })).toBe(true);
		expect(done('node-added', seen, { ...seen, nodes: 1 })).toBe(false);
		expect(done('edge-added', seen, { ...seen, edges: 2 })).toBe(true);
		expect(done('edge-added', seen, seen)).toBe(false);
		expect(done('prompt-set', seen, { ...seen, prompts: 'a:dusk over the sea' })).toBe(true);
		expect(done('prompt-set', seen, seen)).toBe(false);
		expect(done('prompt-set', { ...seen, prompts: 'a:x' }, { ...seen, prompts: '' })).toBe(false);
		expect(done('run-started', seen, { ...seen, run: 'task-2' })).toBe(true);
		expect(done('run-started', seen, seen)).toBe(false);
		expect(done('run-started', { ...seen, run: null }, { ...seen, run: null })).toBe(false);
		expect(done('asset-view', seen, { ...seen, centerView: 'asset' })).toBe(true);
		expect(done('asset-view', { ...seen, centerView: 'asset' }, { ...seen, centerView: 'asset' })).toBe(false);
	});

	it('reads the prompts of Prompt nodes and of generating nodes, in a stable order', () => {
		const nodes = {
			b: { type: 'text_to_image', params: { prompt_text: 'fog', steps: 20 } },
			a: { type: 'prompt', params: { text: 'dusk' } },
			c: { type: 'seed', params: { value: 3 } },
			d: { type: 'shot' }
		};
		expect(promptsOf(nodes)).toBe('a:dusk\nb:fog');
		expect(promptsOf({})).toBe('');
	});
});
