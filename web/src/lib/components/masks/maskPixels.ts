/**
 * The mask painter's pixels. While painting, the mask lives in a canvas at the picture's own size whose
 * alpha is the mask (0 keep … 255 repaint), drawn in the tint colour so it can be shown as it is. Saving turns
 * that alpha into a greyscale picture (white = repaint), softened by the feather.
 */

/** The tint strokes are drawn in (the overlay shows it at the chosen opacity). */
export const TINT: readonly [number, number, number] = [255, 56, 96];

/** One box-blur pass of radius `r` along rows (`stride` 1) or columns (`stride` width), from `src` to `dst`. */
function boxPass(src: Float32Array, dst: Float32Array, count: number, length: number, step: number, stride: number, r: number): void {
	const span = 2 * r + 1;
	for (let line = 0; line < count; line++) {
		const start = line * step;
		const at = (i: number) => src[start + Math.min(length - 1, Math.max(0, i)) * stride]!;
		let sum = 0;
		for (let i = -r; i <= r; i++) sum += at(i);
		for (let i = 0; i < length; i++) {
			dst[start + i * stride] = sum / span;
			sum += at(i + r + 1) - at(i - r);
		}
	}
}

/**
 * A soft edge: the values blurred about as a Gaussian of `feather` pixels would (three box passes each way;
 * edges repeat their last pixel). `feather` 0 answers a copy.
 */
export function feathered(values: Uint8ClampedArray, width: number, height: number, feather: number): Uint8ClampedArray {
	const r = Math.round(feather / 2);
	if (r < 1) return values.slice();
	let a = Float32Array.from(values);
	let b = new Float32Array(values.length);
	for (let pass = 0; pass < 3; pass++) {
		boxPass(a, b, height, width, width, 1, r); // rows
		boxPass(b, a, width, height, 1, width, r); // columns
	}
	b = a;
	return Uint8ClampedArray.from(b, (v) => Math.round(v));
}

/** The alpha of an RGBA buffer (the painted mask). */
export function alphaOf(rgba: Uint8ClampedArray): Uint8ClampedArray {
	const out = new Uint8ClampedArray(rgba.length / 4);
	for (let i = 0; i < out.length; i++) out[i] = rgba[i * 4 + 3]!;
	return out;
}

/** A greyscale picture (opaque RGBA, white = repaint) from the mask's values. */
export function greyPixels(values: Uint8ClampedArray): Uint8ClampedArray<ArrayBuffer> {
	const out = new Uint8ClampedArray(values.length * 4);
	for (let i = 0; i < values.length; i++) {
		const v = values[i]!;
		out[i * 4] = out[i * 4 + 1] = out[i * 4 + 2] = v;
		out[i * 4 + 3] = 255;
	}
	return out;
}

/** A saved mask (greyscale, or any picture: its brightness) as the painter's tinted alpha. */
export function tintedFromGrey(rgba: Uint8ClampedArray): Uint8ClampedArray<ArrayBuffer> {
	const out = new Uint8ClampedArray(rgba.length);
	for (let i = 0; i < rgba.length; i += 4) {
		const grey = (rgba[i]! * 299 + rgba[i + 1]! * 587 + rgba[i + 2]! * 114) / 1000;
		out[i] = TINT[0];
		out[i + 1] = TINT[1];
		out[i + 2] = TINT[2];
		out[i + 3] = Math.round((grey * rgba[i + 3]!) / 255);
	}
	return out;
}
