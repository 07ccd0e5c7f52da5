/**
 * The guided tour's steps and the rules that move through them, kept apart from the UI so they can be tested:
 * which steps apply to this person (a viewer skips the editing ones), where a step number lands after the steps
 * changed, what a first visit or a reload opens, and which real action finishes a step.
 */
import type { TourStatus } from '$lib/api/preferences';
import type { CenterView, MobileView } from '$lib/stores/layout.svelte';

/** A real action the tour watches for: when it happens, the step is done and the tour moves on. */
export type Watch = 'node-added' | 'edge-added' | 'prompt-set' | 'run-started' | 'asset-view';

/** What the tour knows about the person and the studio when it words and picks its steps. */
export interface TourContext {
	canEdit: boolean;
	/** null while the installed models are not known yet. */
	hasModel: boolean | null;
	isAdmin: boolean;
	/** Phones and tablets: one panel at a time, switched from the tab bar. */
	tabbed: boolean;
}

export interface TourStep {
	id: string;
	title: string;
	body: (context: TourContext) => string;
	/** CSS selector of the element the step points at; none: the card stands alone. */
	target: string | null;
	/** What it points at instead while no model is installed (where models are added). */
	targetWithoutModel?: string;
	/** The panel shown on phones and tablets for this step. */
	view?: MobileView;
	/** The center panel's tab this step needs. */
	center?: CenterView;
	watch?: Watch;
	/** What the person is asked to do, shown while the tour waits for it. */
	task?: string;
	/** Only for people who may edit the project. */
	editing?: boolean;
	/** Where the card goes first, on wide screens, when something opens below the element (the palette). */
	side?: 'left';
}

export const STEPS: readonly TourStep[] = [
	{
		id: 'welcome',
		title: 'Welcome to the studio',
		body: (c) =>
			(c.canEdit
				? 'This two-minute tour shows you around your real project. It waits for you to try each thing, or press Next.'
				: 'You can look at this project but not change it (you are a viewer): the tour shows where everything is. Ask its owner for the editor role to make changes.') +
			' Skip it with Esc; replay it any time from the account menu.',
		target: null,
		view: 'canvas',
		center: 'scene'
	},
	{
		id: 'browser',
		title: 'Project, scenes and assets',
		body: () =>
			'The Browser holds this project’s scenes (each one a node graph) and its assets: uploads and every picture or clip you generate.',
		target: '[data-testid="panel-left"]',
		view: 'browser'
	},
	{
		id: 'canvas',
		title: 'The canvas',
		body: (c) =>
			`The Scene View shows the open scene’s graph. Drag to pan, ${c.tabbed ? 'pinch' : 'scroll'} to zoom; nodes pass pictures, text and seeds along their connections.`,
		target: '#tabpanel-scene',
		view: 'canvas',
		center: 'scene'
	},
	{
		id: 'palette',
		title: 'Add a node',
		body: () =>
			'“Add node” opens the palette: every node type with what it does. Try a Prompt or a Text to image node.',
		target: '[data-testid="add-node"]',
		side: 'left',
		view: 'canvas',
		center: 'scene',
		watch: 'node-added',
		task: 'Add a node from the palette',
		editing: true
	},
	{
		id: 'connect',
		title: 'Connect two nodes',
		body: () =>
			'Drag from a node’s output dot (right side) to a matching input dot (left side) of another node: a Prompt’s text into Text to image, its image into a Shot output.',
		target: '#tabpanel-scene',
		view: 'canvas',
		center: 'scene',
		watch: 'edge-added',
		task: 'Connect an output to an input',
		editing: true
	},
	{
		id: 'prompt',
		title: 'Set a prompt',
		body: (c) =>
			`${c.tabbed ? 'Tap a Prompt node on the Canvas: the Properties tab' : 'Select a Prompt node: the Inspector'} shows its parameters. Describe the shot there; the small “i” beside each parameter says what it does.`,
		target: '[data-testid="panel-right"]',
		view: 'properties',
		watch: 'prompt-set',
		task: 'Type a prompt in the Inspector',
		editing: true
	},
	{
		id: 'run',
		title: 'Run the scene',
		body: (c) =>
			c.hasModel === false
				? `No model is installed yet, so a run would be refused. ${c.isAdmin ? 'You can add one from the notice at the foot of the canvas (a folder on the server or a Hugging Face repo).' : 'The notice at the foot of the canvas says how; an administrator of this server adds models.'} Then come back and press Run.`
				: 'Run computes the graph on the server’s GPU (or CPU) and saves what reaches a Shot output as new assets.',
		target: '[data-testid="run-scene"]',
		targetWithoutModel: '[data-testid="no-model-notice"]',
		view: 'canvas',
		center: 'scene',
		watch: 'run-started',
		task: 'Press Run',
		editing: true
	},
	{
		id: 'progress',
		title: 'Progress and the queue',
		body: () =>
			'Progress shows each run live: its step, the time left, its place in the queue, and a Cancel button. Finished runs stay listed.',
		target: '[data-testid="progress-section"]',
		view: 'properties'
	},
	{
		id: 'result',
		title: 'See the result',
		body: () =>
			'Results land in the project’s assets. The Asset View shows the asset picked in the Browser, at full size.',
		target: '#tab-asset',
		view: 'canvas',
		watch: 'asset-view',
		task: 'Open the Asset View'
	},
	{
		id: 'provenance',
		title: 'How it was made',
		body: () =>
			'A generated asset keeps its provenance: prompt, seed, model and steps. “Open graph” brings back the nodes that made it; “Variation” runs it again with a new seed.',
		target: '#tabpanel-asset',
		view: 'canvas',
		center: 'asset'
	},
	{
		id: 'help',
		title: 'Help is in the account menu',
		body: () =>
			'The account menu lists the keyboard shortcuts (or press ?), the API documentation, and “Take the tour” to see this again. Enjoy the studio!',
		target: '[data-testid="account-menu"]'
	}
];

/** The element a step points at, for this person and studio. */
export function targetOf(step: TourStep, context: TourContext): string | null {
	return context.hasModel === false && step.targetWithoutModel ? step.targetWithoutModel : step.target;
}

/** The steps that apply to this person, in order (a viewer is not asked to edit). */
export function applies(step: TourStep, context: TourContext): boolean {
	return !step.editing || context.canEdit;
}

/** The first step at `from` or after it that applies; STEPS.length when none is left (the tour is over). */
export function settle(from: number, context: TourContext): number {
	let index = Math.max(0, Math.floor(Number.isFinite(from) ? from : 0));
	while (index < STEPS.length && !applies(STEPS[index]!, context)) index += 1;
	return Math.min(index, STEPS.length);
}

export function nextStep(from: number, context: TourContext): number {
	return settle(from + 1, context);
}

/** The step before `from` that applies; `from` itself when it is the first. */
export function previousStep(from: number, context: TourContext): number {
	for (let index = Math.min(from, STEPS.length) - 1; index >= 0; index -= 1) if (applies(STEPS[index]!, context)) return index;
	return from;
}

/** "Step n of m" among the steps that apply. */
export function position(index: number, context: TourContext): { n: number; m: number } {
	const shown = STEPS.map((step, i) => ({ step, i })).filter(({ step }) => applies(step, context));
	const n = shown.findIndex(({ i }) => i === index);
	return { n: n < 0 ? 1 : n + 1, m: shown.length };
}

/**
 * What opening the studio does with the tour: start it for someone who never saw it or asked for it from the menu,
 * offer to resume it after a reload (never forced), and leave it alone once done or skipped.
 */
export function opening(status: TourStatus, requested: boolean): 'start' | 'offer' | 'none' {
	if (requested || status === 'new') return 'start';
	return status === 'active' ? 'offer' : 'none';
}

/** What the tour sees of the studio, to tell when a watched action happened. */
export interface Observed {
	nodes: number;
	edges: number;
	/** The prompts' texts, joined: changes when someone types one. */
	prompts: string;
	/** The latest run's task, if any. */
	run: string | null;
	centerView: CenterView;
}

/** Whether the person did what `watch` asks between `before` (when the step began) and `now`. */
export function done(watch: Watch, before: Observed, now: Observed): boolean {
	switch (watch) {
		case 'node-added':
			return now.nodes > before.nodes;
		case 'edge-added':
			return now.edges > before.edges;
		case 'prompt-set':
			return now.prompts !== before.prompts && now.prompts.trim() !== '';
		case 'run-started':
			return now.run !== null && now.run !== before.run;
		case 'asset-view':
			return now.centerView === 'asset' && before.centerView !== 'asset';
	}
}

/** The prompts' texts of a graph's nodes (Prompt nodes, and the prompt typed into a generating node). */
export function promptsOf(nodes: Record<string, { type: string; params?: Record<string, unknown> }>): string {
	const texts: string[] = [];
	for (const [id, node] of Object.entries(nodes)) {
		const params = node.params ?? {};
		const text = node.type === 'prompt' ? params['text'] : params['prompt_text'];
		if (typeof text === 'string') texts.push(`${id}:${text}`);
	}
	return texts.sort().join('\n');
}
