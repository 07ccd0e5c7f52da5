/**
 * Port types and which outputs may feed which inputs, as the engine decides it
 * (`src/mediastudio/engine/registry.py`, CONVERTS): an edge is valid when the types are equal or
 * the output's type converts to the input's. Each type has a colour, so a graph reads at a glance.
 */

/** Output type → the input types it may feed besides its own. */
const CONVERTS: Record<string, readonly string[]> = {
	int: ['float', 'seed'],
	seed: ['int'],
	image: ['images', 'mask'],
	mask: ['image']
};

/** A port of a generic note: takes and gives anything (notes do not run). */
export const ANY = 'any';

export const PORT_COLORS: Record<string, string> = {
	text: '#5cc98a',
	int: '#6f9cff',
	float: '#58c4dd',
	seed: '#e6c34d',
	model: '#b07ee8',
	image: '#f0944b',
	images: '#e86f3c',
	mask: '#c9ced8',
	video: '#f06a9a',
	latent: '#e05fd0',
	[ANY]: '#949cab'
};

export function portColor(type: string): string {
	return PORT_COLORS[type] ?? PORT_COLORS[ANY]!;
}

export function connects(outputType: string, inputType: string): boolean {
	if (outputType === ANY || inputType === ANY) return true;
	return outputType === inputType || (CONVERTS[outputType]?.includes(inputType) ?? false);
}

/** Why an output of `outputType` cannot feed input `inputName` (of `inputType`); null when it can. */
export function refusal(outputType: string, inputName: string, inputType: string, sourceTitle: string): string | null {
	if (connects(outputType, inputType)) return null;
	return `“${inputName}” takes ${inputType}, but ${sourceTitle} gives ${outputType}.`;
}
