import { describe, expect, it } from 'vitest';
import { defaultParams, invalid, labelOf, paramSpecs, slides, stepOf, type ParamSpec } from './params';

// Parameter schemas as the server sends them (pydantic's model_json_schema of the node types).
const TEXT_TO_IMAGE = {
	properties: {
		prompt_text: { default: '', description: 'The prompt, when no prompt node is connected', maxLength: 10000, title: 'Prompt Text', type: 'string', 'x-widget': 'prompt' },
		steps: { default: 20, description: 'Denoising steps', maximum: 150, minimum: 1, title: 'Steps', type: 'integer' },
		guidance_scale: { default: 7.0, description: 'How closely to follow the prompt', maximum: 30.0, minimum: 0.0, title: 'Guidance Scale', type: 'number' },
		seed: { default: 0, description: 'Used when no seed node is connected', maximum: 4294967295, minimum: 0, title: 'Seed', type: 'integer', 'x-widget': 'seed' },
		width: { default: 512, description: 'Width in pixels', maximum: 2048, minimum: 64, multipleOf: 8, title: 'Width', type: 'integer' },
		height: { default: 512, description: 'Height in pixels', maximum: 2048, minimum: 64, multipleOf: 8, title: 'Height', type: 'integer' }
	},
	title: 'TextToImage',
	type: 'object'
};
const LOAD_IMAGE = {
	properties: {
		asset_id: { default: '', description: 'The asset', maxLength: 64, title: 'Asset Id', type: 'string', 'x-options': 'assets' },
		asset_ids: { description: 'Several assets, in order', items: { type: 'string' }, maxItems: 10000, title: 'Asset Ids', type: 'array' }
	}
};
const MISC = {
	properties: {
		method: { default: 'lanczos', description: 'Resampling filter', enum: ['lanczos', 'bicubic', 'nearest'], type: 'string' },
		clip: { default: '', maxLength: 64, type: 'string', 'x-options': 'video-assets' },
		model: { default: '', maxLength: 200, type: 'string', 'x-options': 'models' },
		tags: { items: { type: 'string' }, maxItems: 20, type: 'array' },
		loop: { default: false, type: 'boolean' },
		extra: { type: 'object' },
		name: { default: 'Shot', maxLength: 120, minLength: 1, type: 'string' }
	}
};

function spec(schema: Record<string, unknown>, key: string): ParamSpec {
	const found = paramSpecs(schema).find((s) => s.key === key);
	if (!found) throw new Error(`no parameter ${key}`);
	return found;
}

describe('paramSpecs', () => {
	it('keeps the schema order and reads ranges, steps, defaults and help text', () => {
		const specs = paramSpecs(TEXT_TO_IMAGE);
		expect(specs.map((s) => s.key)).toEqual(['prompt_text', 'steps', 'guidance_scale', 'seed', 'width', 'height']);
		expect(spec(TEXT_TO_IMAGE, 'width')).toMatchObject({
			label: 'width',
			kind: 'int',
			default: 512,
			minimum: 64,
			maximum: 2048,
			multipleOf: 8,
			description: 'Width in pixels'
		});
		expect(spec(TEXT_TO_IMAGE, 'guidance_scale')).toMatchObject({ label: 'guidance scale', kind: 'float', default: 7, minimum: 0, maximum: 30 });
		expect(spec(TEXT_TO_IMAGE, 'prompt_text')).toMatchObject({ kind: 'prompt', maxLength: 10000, default: '' });
		expect(spec(TEXT_TO_IMAGE, 'seed').kind).toBe('seed');
	});

	it('picks the control from the widget and option hints before the JSON type', () => {
		const kinds = Object.fromEntries(paramSpecs(MISC).map((s) => [s.key, s.kind]));
		expect(kinds).toEqual({ method: 'enum', clip: 'asset', model: 'model', tags: 'list', loop: 'bool', extra: 'json', name: 'text' });
		expect(spec(MISC, 'method').options).toEqual(['lanczos', 'bicubic', 'nearest']);
		expect(spec(MISC, 'method').optionLabels).toBeUndefined();
		const labelled = { properties: { sampler: { default: 'default', enum: ['default', 'euler_a'], type: 'string', 'x-labels': { default: 'Default', euler_a: 'Euler a' } } } };
		expect(spec(labelled, 'sampler')).toMatchObject({ kind: 'enum', options: ['default', 'euler_a'], optionLabels: { euler_a: 'Euler a' } });
	});

	it("picks LoRA files and VAE folders from the server's lists", () => {
		const files = { properties: { lora: { default: '', maxLength: 200, type: 'string', 'x-options': 'loras' }, vae: { default: '', maxLength: 100, type: 'string', 'x-options': 'vaes' } } };
		expect(spec(files, 'lora')).toMatchObject({ kind: 'file', source: 'loras', maxLength: 200 });
		expect(spec(files, 'vae')).toMatchObject({ kind: 'file', source: 'vaes' });
		const controlnet = { properties: { controlnet: { default: '', maxLength: 100, type: 'string', 'x-options': 'controlnets' } } };
		expect(spec(controlnet, 'controlnet')).toMatchObject({ kind: 'file', source: 'controlnets', maxLength: 100 });
		expect(invalid(spec(files, 'vae'), 'x'.repeat(101))).toBe('At most 100 characters.');
	});

	it('tells picture assets from video clips, for single ids and lists of them', () => {
		expect(spec(LOAD_IMAGE, 'asset_id')).toMatchObject({ kind: 'asset', media: 'image' });
		expect(spec(LOAD_IMAGE, 'asset_ids')).toMatchObject({ kind: 'list', item: 'asset', media: 'image', maxItems: 10000, default: [] });
		expect(spec(MISC, 'clip')).toMatchObject({ kind: 'asset', media: 'video' });
		const pictures = paramSpecs({ properties: { picks: { type: 'array', items: { type: 'string', 'x-options': 'assets' } } } })[0];
		expect(pictures).toMatchObject({ kind: 'list', item: 'asset', media: 'image' });
		const clips = paramSpecs({ properties: { asset_ids: { type: 'array', items: { type: 'string', 'x-options': 'video-assets' } } } })[0];
		expect(clips).toMatchObject({ kind: 'list', item: 'asset', media: 'video' });
		// A plain list holds text, and has no media.
		expect(spec(MISC, 'tags')).toMatchObject({ item: 'text', default: [] });
		expect(spec(MISC, 'tags').media).toBeUndefined();
	});

	it('reads Optional[X] (anyOf X, null) as X, keeping the outer default and description', () => {
		const [limit] = paramSpecs({
			properties: {
				limit: { anyOf: [{ type: 'integer', minimum: 1, maximum: 9, description: 'An integer' }, { type: 'null' }], default: null, description: 'How many' }
			}
		});
		expect(limit).toMatchObject({ kind: 'int', minimum: 1, maximum: 9, default: null, description: 'How many' });
		const [nullFirst] = paramSpecs({ properties: { mode: { anyOf: [{ type: 'null' }, { enum: ['a', 'b'], type: 'string' }] } } });
		expect(nullFirst).toMatchObject({ kind: 'enum', options: ['a', 'b'], default: undefined });
		const [onlyNull] = paramSpecs({ properties: { nothing: { anyOf: [{ type: 'null' }] } } });
		expect(onlyNull?.kind).toBe('json');
	});

	it('takes exclusive bounds as bounds, and ignores bounds that are not finite numbers', () => {
		const [ratio] = paramSpecs({ properties: { ratio: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } } });
		expect(ratio).toMatchObject({ minimum: 0, maximum: 1 });
		const [odd] = paramSpecs({ properties: { odd: { type: 'integer', minimum: '1', maximum: null, multipleOf: 'x' } } });
		expect(odd?.minimum).toBeUndefined();
		expect(odd?.maximum).toBeUndefined();
		expect(odd?.multipleOf).toBeUndefined();
	});

	it('enum options become strings', () => {
		const [level] = paramSpecs({ properties: { level: { enum: [1, 2, 'max'] } } });
		expect(level).toMatchObject({ kind: 'enum', options: ['1', '2', 'max'] });
	});

	it('a missing or empty schema has no parameters', () => {
		expect(paramSpecs(undefined)).toEqual([]);
		expect(paramSpecs({})).toEqual([]);
		expect(paramSpecs({ properties: {} })).toEqual([]);
	});
});

describe('labelOf', () => {
	it('spells a key in words', () => {
		expect(labelOf('max_frames')).toBe('max frames');
		expect(labelOf('a__b')).toBe('a  b');
		expect(labelOf('seed')).toBe('seed');
	});
});

describe('defaultParams', () => {
	it('is every default, a list without one starting empty', () => {
		expect(defaultParams(TEXT_TO_IMAGE)).toEqual({ prompt_text: '', steps: 20, guidance_scale: 7, seed: 0, width: 512, height: 512 });
		expect(defaultParams(LOAD_IMAGE)).toEqual({ asset_id: '', asset_ids: [] });
	});

	it('leaves out parameters without a default, keeps an explicit null one', () => {
		const params = defaultParams({ properties: { extra: { type: 'object' }, limit: { anyOf: [{ type: 'integer' }, { type: 'null' }], default: null } } });
		expect(params).toEqual({ limit: null });
		expect('extra' in params).toBe(false);
	});

	it('of no schema is nothing', () => {
		expect(defaultParams(undefined)).toEqual({});
	});
});

describe('invalid', () => {
	const steps = spec(TEXT_TO_IMAGE, 'steps');
	const width = spec(TEXT_TO_IMAGE, 'width');
	const guidance = spec(TEXT_TO_IMAGE, 'guidance_scale');
	const seed = spec(TEXT_TO_IMAGE, 'seed');

	it('accepts no value (the default applies)', () => {
		for (const s of paramSpecs(MISC).concat(paramSpecs(TEXT_TO_IMAGE))) {
			expect(invalid(s, undefined)).toBeNull();
			expect(invalid(s, null)).toBeNull();
		}
	});

	it('numbers: a number, whole for integers and seeds, within the range', () => {
		expect(invalid(steps, 20)).toBeNull();
		expect(invalid(steps, 1)).toBeNull();
		expect(invalid(steps, 150)).toBeNull();
		expect(invalid(steps, 0)).toBe('Must be at least 1.');
		expect(invalid(steps, 151)).toBe('Must be at most 150.');
		expect(invalid(steps, 2.5)).toBe('Must be a whole number.');
		expect(invalid(steps, '20')).toBe('Must be a number.');
		expect(invalid(steps, Number.NaN)).toBe('Must be a number.');
		expect(invalid(steps, Number.POSITIVE_INFINITY)).toBe('Must be a number.');
		expect(invalid(seed, 4294967295)).toBeNull();
		expect(invalid(seed, 4294967296)).toBe('Must be at most 4294967295.');
		expect(invalid(seed, 1.5)).toBe('Must be a whole number.');
		expect(invalid(guidance, 7.25)).toBeNull();
		expect(invalid(guidance, -0.5)).toBe('Must be at least 0.');
	});

	it('numbers: a multiple of the step, within rounding', () => {
		expect(invalid(width, 512)).toBeNull();
		expect(invalid(width, 516)).toBe('Must be a multiple of 8.');
		const tenth: ParamSpec = { key: 'x', label: 'x', description: '', kind: 'float', default: undefined, multipleOf: 0.1 };
		expect(invalid(tenth, 0.3)).toBeNull(); // 0.3 / 0.1 is 2.9999999999999996
		expect(invalid(tenth, 0.7)).toBeNull();
		expect(invalid(tenth, 0.35)).toBe('Must be a multiple of 0.1.');
	});

	it('enums: one of the options', () => {
		const method = spec(MISC, 'method');
		expect(invalid(method, 'bicubic')).toBeNull();
		expect(invalid(method, 'Bicubic')).toBe('Must be one of: lanczos, bicubic, nearest.');
		const [level] = paramSpecs({ properties: { level: { enum: [1, 2] } } });
		expect(invalid(level!, 2)).toBeNull(); // compared as strings, as the options are
		expect(invalid(level!, 3)).toBe('Must be one of: 1, 2.');
	});

	it('text: the length bounds, with the wording for an empty one', () => {
		const name = spec(MISC, 'name');
		expect(invalid(name, 'Shot 1')).toBeNull();
		expect(invalid(name, '')).toBe('Cannot be empty.');
		expect(invalid(name, 'x'.repeat(120))).toBeNull();
		expect(invalid(name, 'x'.repeat(121))).toBe('At most 120 characters.');
		const code: ParamSpec = { key: 'code', label: 'code', description: '', kind: 'text', default: undefined, minLength: 3 };
		expect(invalid(code, 'ab')).toBe('At least 3 characters.');
		expect(invalid(spec(LOAD_IMAGE, 'asset_id'), 'a'.repeat(65))).toBe('At most 64 characters.');
		expect(invalid(spec(MISC, 'model'), 'm'.repeat(201))).toBe('At most 200 characters.');
		expect(invalid(spec(TEXT_TO_IMAGE, 'prompt_text'), 'p'.repeat(10001))).toBe('At most 10000 characters.');
	});

	it('text: counts characters as the server does (an emoji is one)', () => {
		const name = spec(MISC, 'name');
		expect(invalid(name, '🎬'.repeat(120))).toBeNull();
		expect(invalid(name, '🎬'.repeat(121))).toBe('At most 120 characters.');
		const pair: ParamSpec = { key: 'p', label: 'p', description: '', kind: 'text', default: undefined, minLength: 2 };
		expect(invalid(pair, '🎬')).toBe('At least 2 characters.');
	});

	it('lists: a list, of at most maxItems', () => {
		const tags = spec(MISC, 'tags');
		expect(invalid(tags, [])).toBeNull();
		expect(invalid(tags, Array.from({ length: 20 }, (_, i) => `t${i}`))).toBeNull();
		expect(invalid(tags, Array.from({ length: 21 }, (_, i) => `t${i}`))).toBe('At most 20 items.');
		expect(invalid(tags, 'a,b')).toBe('Must be a list.');
	});

	it('booleans and free JSON are never refused here', () => {
		expect(invalid(spec(MISC, 'loop'), 'yes')).toBeNull();
		expect(invalid(spec(MISC, 'extra'), { a: 1 })).toBeNull();
	});
});

describe('stepOf', () => {
	const float = (minimum?: number, maximum?: number, multipleOf?: number): ParamSpec => ({
		key: 'f',
		label: 'f',
		description: '',
		kind: 'float',
		default: undefined,
		minimum,
		maximum,
		multipleOf
	});

	it('is the multiple when there is one', () => {
		expect(stepOf(spec(TEXT_TO_IMAGE, 'width'))).toBe(8);
		expect(stepOf(float(0, 1, 0.05))).toBe(0.05);
	});

	it('is 1 for whole numbers', () => {
		expect(stepOf(spec(TEXT_TO_IMAGE, 'steps'))).toBe(1);
		expect(stepOf(spec(TEXT_TO_IMAGE, 'seed'))).toBe(1);
	});

	it('for decimals, follows the range: fine for a small one, coarse for a large one', () => {
		expect(stepOf(float(0, 1))).toBe(0.01);
		expect(stepOf(float(0, 2))).toBe(0.01);
		expect(stepOf(float(0, 2.5))).toBe(0.1);
		expect(stepOf(spec(TEXT_TO_IMAGE, 'guidance_scale'))).toBe(0.1); // 0…30
		expect(stepOf(float(0, 40))).toBe(0.1);
		expect(stepOf(float(0, 86400))).toBe(1);
		expect(stepOf(float())).toBe(0.1); // unbounded: taken as 0…10
		expect(stepOf(float(9))).toBe(0.01); // 9…10
	});
});

describe('slides', () => {
	it('bounded numbers with a modest range slide', () => {
		expect(slides(spec(TEXT_TO_IMAGE, 'steps'))).toBe(true);
		expect(slides(spec(TEXT_TO_IMAGE, 'guidance_scale'))).toBe(true);
		expect(slides({ ...spec(TEXT_TO_IMAGE, 'steps'), minimum: 0, maximum: 10_000 })).toBe(true);
	});

	it('seeds, huge ranges and half-bounded numbers do not', () => {
		expect(slides(spec(TEXT_TO_IMAGE, 'seed'))).toBe(false);
		expect(slides({ ...spec(TEXT_TO_IMAGE, 'seed'), kind: 'seed', maximum: 100 })).toBe(false);
		expect(slides({ ...spec(TEXT_TO_IMAGE, 'steps'), minimum: 0, maximum: 10_001 })).toBe(false);
		expect(slides({ ...spec(TEXT_TO_IMAGE, 'steps'), maximum: undefined })).toBe(false);
		expect(slides({ ...spec(TEXT_TO_IMAGE, 'steps'), minimum: undefined })).toBe(false);
	});
});
