/**
 * A node type's parameters as the Properties Inspector needs them, read from the pydantic JSON schema
 * the server sends (`params_schema`): the kind of control, its range and step, its options, its
 * default and its help text; plus the checks the server makes, so a value out of range shows at once.
 */
import type { ParamValue } from '$lib/collab/model';

export type ParamKind = 'int' | 'float' | 'text' | 'prompt' | 'seed' | 'model' | 'asset' | 'file' | 'enum' | 'bool' | 'list' | 'json';

/** The server's lists a `file` parameter picks from: LoRA files (loras/), VAE and ControlNet folders (models/),
 * IP-Adapters (ipadapters/). */
export type FileSource = 'loras' | 'vaes' | 'ipadapters' | 'controlnets';

export interface ParamSpec {
	key: string;
	/** What the inspector calls it: the key in words ("guidance scale"). */
	label: string;
	description: string;
	kind: ParamKind;
	default: ParamValue | undefined;
	minimum?: number;
	maximum?: number;
	multipleOf?: number;
	minLength?: number;
	maxLength?: number;
	maxItems?: number;
	options?: string[];
	/** For choices: what to show for each value, where the schema says (`x-labels`). */
	optionLabels?: Record<string, string>;
	/** For lists: the kind of each item ('asset' for asset ids). */
	item?: ParamKind;
	/** For assets: which kind the parameter takes (pictures, or video clips). */
	media?: 'image' | 'video';
	/** For files: which of the server's lists it picks from. */
	source?: FileSource;
}

type Schema = Record<string, unknown>;

const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** `Optional[X]` comes as anyOf [X, null]: the X. */
function unwrap(schema: Schema): Schema {
	const any = schema['anyOf'];
	if (!Array.isArray(any)) return schema;
	const concrete = any.find((s) => (s as Schema)?.['type'] !== 'null') as Schema | undefined;
	return concrete ? { ...concrete, ...schema, anyOf: undefined } : schema;
}

function kindOf(key: string, schema: Schema): ParamKind {
	const widget = schema['x-widget'];
	const options = schema['x-options'];
	if (widget === 'prompt') return 'prompt';
	if (widget === 'seed') return 'seed';
	if (options === 'models') return 'model';
	if (options === 'assets' || options === 'video-assets') return 'asset';
	if (options === 'loras' || options === 'vaes' || options === 'ipadapters' || options === 'controlnets') return 'file';
	if (Array.isArray(schema['enum'])) return 'enum';
	switch (schema['type']) {
		case 'integer':
			return 'int';
		case 'number':
			return 'float';
		case 'boolean':
			return 'bool';
		case 'string':
			return 'text';
		case 'array':
			return 'list';
		default:
			return 'json';
	}
}

export function labelOf(key: string): string {
	return key.replace(/_/g, ' ');
}

/** The parameters of a schema, in its order. */
export function paramSpecs(paramsSchema: Schema | undefined): ParamSpec[] {
	const properties = (paramsSchema?.['properties'] ?? {}) as Record<string, Schema>;
	return Object.entries(properties).map(([key, raw]) => {
		const schema = unwrap(raw);
		const kind = kindOf(key, schema);
		const items = unwrap((schema['items'] ?? {}) as Schema);
		const spec: ParamSpec = {
			key,
			label: labelOf(key),
			description: typeof schema['description'] === 'string' ? schema['description'] : '',
			kind,
			default: 'default' in schema ? (schema['default'] as ParamValue) : kind === 'list' ? [] : undefined,
			minimum: num(schema['minimum']) ?? num(schema['exclusiveMinimum']),
			maximum: num(schema['maximum']) ?? num(schema['exclusiveMaximum']),
			multipleOf: num(schema['multipleOf']),
			minLength: num(schema['minLength']),
			maxLength: num(schema['maxLength']),
			maxItems: num(schema['maxItems']),
			options: Array.isArray(schema['enum']) ? (schema['enum'] as unknown[]).map(String) : undefined
		};
		if (kind === 'list') spec.item = /asset/.test(key) || items['x-options'] === 'assets' ? 'asset' : 'text';
		const labels = schema['x-labels'];
		if (kind === 'enum' && labels && typeof labels === 'object') spec.optionLabels = labels as Record<string, string>;
		if (kind === 'file') spec.source = schema['x-options'] as FileSource;
		if (kind === 'asset' || spec.item === 'asset') {
			spec.media = schema['x-options'] === 'video-assets' || items['x-options'] === 'video-assets' ? 'video' : 'image';
		}
		return spec;
	});
}

/** The parameters a new node of this schema starts with: every default. */
export function defaultParams(paramsSchema: Schema | undefined): Record<string, ParamValue> {
	const params: Record<string, ParamValue> = {};
	for (const spec of paramSpecs(paramsSchema)) if (spec.default !== undefined) params[spec.key] = spec.default;
	return params;
}

/** What is wrong with `value` for this parameter (as the server would say it), or null. */
export function invalid(spec: ParamSpec, value: ParamValue | undefined): string | null {
	if (value === undefined || value === null) return null; // the default applies
	switch (spec.kind) {
		case 'int':
		case 'float':
		case 'seed': {
			if (typeof value !== 'number' || !Number.isFinite(value)) return 'Must be a number.';
			if (spec.kind !== 'float' && !Number.isInteger(value)) return 'Must be a whole number.';
			if (spec.minimum !== undefined && value < spec.minimum) return `Must be at least ${spec.minimum}.`;
			if (spec.maximum !== undefined && value > spec.maximum) return `Must be at most ${spec.maximum}.`;
			if (spec.multipleOf && Math.abs(value / spec.multipleOf - Math.round(value / spec.multipleOf)) > 1e-9) {
				return `Must be a multiple of ${spec.multipleOf}.`;
			}
			return null;
		}
		case 'enum':
			return spec.options?.includes(String(value)) ? null : `Must be one of: ${spec.options?.join(', ')}.`;
		case 'text':
		case 'prompt':
		case 'model':
		case 'file':
		case 'asset': {
			const length = [...String(value)].length; // characters, as the server counts them (an emoji is one)
			if (spec.minLength !== undefined && length < spec.minLength) return spec.minLength === 1 ? 'Cannot be empty.' : `At least ${spec.minLength} characters.`;
			if (spec.maxLength !== undefined && length > spec.maxLength) return `At most ${spec.maxLength} characters.`;
			return null;
		}
		case 'list':
			if (!Array.isArray(value)) return 'Must be a list.';
			return spec.maxItems !== undefined && value.length > spec.maxItems ? `At most ${spec.maxItems} items.` : null;
		default:
			return null;
	}
}

/** The step a number control moves by. */
export function stepOf(spec: ParamSpec): number | 'any' {
	if (spec.multipleOf) return spec.multipleOf;
	if (spec.kind === 'float') {
		const range = (spec.maximum ?? 10) - (spec.minimum ?? 0);
		return range <= 2 ? 0.01 : range <= 40 ? 0.1 : 1;
	}
	return 1;
}

/** Whether a number gets a slider: bounded, and a range a slider can pick from (not a seed's 0…4 billion). */
export function slides(spec: ParamSpec): boolean {
	return spec.minimum !== undefined && spec.maximum !== undefined && spec.maximum - spec.minimum <= 10_000 && spec.kind !== 'seed';
}
