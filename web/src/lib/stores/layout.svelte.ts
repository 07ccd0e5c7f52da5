/**
 * The studio's panel layout: side panel widths and collapsed states, persisted per browser in
 * localStorage under `mediastudio.layout.v1` (tests read this key and shape), plus the view shown
 * on phones and tablets (one panel at a time) and the center panel's tab, which are not persisted.
 */

export const LAYOUT_STORAGE_KEY = 'mediastudio.layout.v1';

export type Side = 'left' | 'right';
export type MobileView = 'browser' | 'canvas' | 'properties';
/** The tabs of the studio's center panel. */
export type CenterView = 'scene' | 'asset' | 'history' | 'activity' | 'board';

export interface PersistedLayout {
	leftWidth: number;
	rightWidth: number;
	leftCollapsed: boolean;
	rightCollapsed: boolean;
}

export const PANEL_LIMITS = {
	left: { min: 200, max: 560, initial: 280 },
	right: { min: 240, max: 600, initial: 320 }
} as const;

/** The narrowest screen that shows three panels side by side (app.css's `studio` breakpoint, 68.75rem):
 * two side panels (capped to `50vw - 280px` each below 1280 px) leave the canvas 560 px or more. */
export const THREE_PANELS_FROM = 1100;

/** True where the studio shows one panel at a time (phones, tablets): picking something elsewhere shows the canvas. */
export function isTabbed(): boolean {
	return typeof window !== 'undefined' && !window.matchMedia(`(min-width: ${THREE_PANELS_FROM}px)`).matches;
}

export function clampWidth(side: Side, width: number): number {
	const { min, max, initial } = PANEL_LIMITS[side];
	if (!Number.isFinite(width)) return initial;
	return Math.round(Math.min(max, Math.max(min, width)));
}

function load(): PersistedLayout {
	const fallback: PersistedLayout = {
		leftWidth: PANEL_LIMITS.left.initial,
		rightWidth: PANEL_LIMITS.right.initial,
		leftCollapsed: false,
		rightCollapsed: false
	};
	try {
		const raw: unknown = JSON.parse(localStorage.getItem(LAYOUT_STORAGE_KEY) ?? 'null');
		if (typeof raw !== 'object' || raw === null) return fallback;
		const saved = raw as Partial<Record<keyof PersistedLayout, unknown>>;
		return {
			leftWidth: typeof saved.leftWidth === 'number' ? clampWidth('left', saved.leftWidth) : fallback.leftWidth,
			rightWidth: typeof saved.rightWidth === 'number' ? clampWidth('right', saved.rightWidth) : fallback.rightWidth,
			leftCollapsed: saved.leftCollapsed === true,
			rightCollapsed: saved.rightCollapsed === true
		};
	} catch {
		return fallback; // unreadable JSON or storage disabled: start from the defaults
	}
}

class LayoutStore {
	leftWidth = $state<number>(PANEL_LIMITS.left.initial);
	rightWidth = $state<number>(PANEL_LIMITS.right.initial);
	leftCollapsed = $state(false);
	rightCollapsed = $state(false);
	mobileView = $state<MobileView>('canvas');
	centerView = $state<CenterView>('scene');

	constructor() {
		if (typeof localStorage === 'undefined') return;
		Object.assign(this, load());
	}

	width(side: Side): number {
		return side === 'left' ? this.leftWidth : this.rightWidth;
	}

	collapsed(side: Side): boolean {
		return side === 'left' ? this.leftCollapsed : this.rightCollapsed;
	}

	setWidth(side: Side, width: number): void {
		const clamped = clampWidth(side, width);
		if (side === 'left') this.leftWidth = clamped;
		else this.rightWidth = clamped;
		this.#save();
	}

	setCollapsed(side: Side, collapsed: boolean): void {
		if (side === 'left') this.leftCollapsed = collapsed;
		else this.rightCollapsed = collapsed;
		this.#save();
	}

	toggle(side: Side): void {
		this.setCollapsed(side, !this.collapsed(side));
	}

	#save(): void {
		const value: PersistedLayout = {
			leftWidth: this.leftWidth,
			rightWidth: this.rightWidth,
			leftCollapsed: this.leftCollapsed,
			rightCollapsed: this.rightCollapsed
		};
		try {
			localStorage.setItem(LAYOUT_STORAGE_KEY, JSON.stringify(value));
		} catch {
			// storage full or disabled (private mode): the layout still works for this session
		}
	}
}

export const layout = new LayoutStore();
