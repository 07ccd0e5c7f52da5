/**
 * The painted mask as a list of steps (strokes, invert, clear) replayed onto a canvas at the picture's own size:
 * undo drops the last step and replays the rest, so no copy of the whole picture is kept per step.
 */
import { TINT } from './maskPixels';

export type Tool = 'brush' | 'eraser';
export type Point = { x: number; y: number };

export type Step =
	| { kind: 'stroke'; tool: Tool; size: number; points: Point[] }
	| { kind: 'invert' }
	| { kind: 'clear' };

const COLOR = `rgb(${TINT.join(' ')})`;

export class MaskLayer {
	readonly canvas: HTMLCanvasElement;
	readonly width: number;
	readonly height: number;
	#ctx: CanvasRenderingContext2D;
	/** The mask it started from (one being edited again), as tinted pixels; null: an empty mask. */
	#base: ImageData | null = null;
	#done: Step[] = [];
	#undone: Step[] = [];
	#stroke: Extract<Step, { kind: 'stroke' }> | null = null;

	constructor(canvas: HTMLCanvasElement, width: number, height: number) {
		this.canvas = canvas;
		this.width = canvas.width = width;
		this.height = canvas.height = height;
		this.#ctx = canvas.getContext('2d', { willReadFrequently: true })!;
	}

	get canUndo(): boolean {
		return this.#done.length > 0;
	}
	get canRedo(): boolean {
		return this.#undone.length > 0;
	}
	get steps(): number {
		return this.#done.length;
	}

	/** Starts from a saved mask (tinted pixels of the picture's size); forgets every step. */
	setBase(base: ImageData | null): void {
		this.#base = base;
		this.#done = [];
		this.#undone = [];
		this.#replay();
	}

	begin(tool: Tool, size: number, at: Point): void {
		this.#stroke = { kind: 'stroke', tool, size, points: [at] };
		this.#segment(this.#stroke, at, at);
	}

	extend(at: Point): void {
		const stroke = this.#stroke;
		if (!stroke) return;
		const last = stroke.points[stroke.points.length - 1]!;
		if (Math.hypot(at.x - last.x, at.y - last.y) < 0.5) return;
		stroke.points.push(at);
		this.#segment(stroke, last, at);
	}

	/** Keeps the stroke under way as a step. */
	end(): void {
		if (!this.#stroke) return;
		this.#push(this.#stroke);
		this.#stroke = null;
	}

	/** Drops the stroke under way (a second finger came: the gesture is a pinch, not paint). */
	cancel(): void {
		if (!this.#stroke) return;
		this.#stroke = null;
		this.#replay();
	}

	invert(): void {
		this.#push({ kind: 'invert' });
		this.#apply({ kind: 'invert' });
	}

	clear(): void {
		this.#push({ kind: 'clear' });
		this.#apply({ kind: 'clear' });
	}

	undo(): void {
		const step = this.#done.pop();
		if (!step) return;
		this.#undone.push(step);
		this.#replay();
	}

	redo(): void {
		const step = this.#undone.pop();
		if (!step) return;
		this.#done.push(step);
		this.#apply(step);
	}

	/** The mask's pixels (RGBA; the alpha is the mask). */
	pixels(): Uint8ClampedArray {
		return this.#ctx.getImageData(0, 0, this.width, this.height).data;
	}

	#push(step: Step): void {
		this.#done.push(step);
		this.#undone = [];
	}

	#replay(): void {
		const ctx = this.#ctx;
		ctx.globalCompositeOperation = 'source-over';
		ctx.clearRect(0, 0, this.width, this.height);
		if (this.#base) ctx.putImageData(this.#base, 0, 0);
		for (const step of this.#done) this.#apply(step);
	}

	#apply(step: Step): void {
		const ctx = this.#ctx;
		if (step.kind === 'clear') {
			ctx.globalCompositeOperation = 'source-over';
			ctx.clearRect(0, 0, this.width, this.height);
		} else if (step.kind === 'invert') {
			// Opaque tint where nothing was painted, nothing where it was fully: alpha becomes 255 − alpha.
			ctx.globalCompositeOperation = 'xor';
			ctx.fillStyle = COLOR;
			ctx.fillRect(0, 0, this.width, this.height);
			ctx.globalCompositeOperation = 'source-over';
		} else {
			step.points.forEach((point, i) => this.#segment(step, step.points[Math.max(0, i - 1)]!, point));
		}
	}

	#segment(stroke: Extract<Step, { kind: 'stroke' }>, from: Point, to: Point): void {
		const ctx = this.#ctx;
		ctx.globalCompositeOperation = stroke.tool === 'eraser' ? 'destination-out' : 'source-over';
		ctx.strokeStyle = ctx.fillStyle = COLOR;
		ctx.lineWidth = stroke.size;
		ctx.lineCap = ctx.lineJoin = 'round';
		ctx.beginPath();
		if (from.x === to.x && from.y === to.y) ctx.arc(to.x, to.y, stroke.size / 2, 0, Math.PI * 2), ctx.fill();
		else (ctx.moveTo(from.x, from.y), ctx.lineTo(to.x, to.y), ctx.stroke());
		ctx.globalCompositeOperation = 'source-over';
	}
}
