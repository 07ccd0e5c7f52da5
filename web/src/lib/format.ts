/** Dates as people read them in lists: "12 Mar 2025", "3 min ago". */

const DATE = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
	['second', 60],
	['minute', 60],
	['hour', 24],
	['day', 30],
	['month', 12],
	['year', Infinity]
];

export function formatDate(iso: string): string {
	return DATE.format(new Date(iso));
}

export function formatRelative(iso: string, now = Date.now()): string {
	let amount = (new Date(iso).getTime() - now) / 1000;
	for (const [unit, size] of STEPS) {
		if (Math.abs(amount) < size) {
			return unit === 'second' && Math.abs(amount) < 45 ? 'just now' : RELATIVE.format(Math.round(amount), unit);
		}
		amount /= size;
	}
	return formatDate(iso);
}

/**
 * A rough duration, as an estimate reads: "a few seconds", "about 40 s", "about 2 min", "about 1 h 5 min".
 * Seconds round to 5, minutes to whole ones; an hour or more shows hours and minutes.
 */
export function aboutDuration(seconds: number): string {
	const s = Math.max(0, seconds);
	if (s < 10) return 'a few seconds';
	if (s < 57.5) return `about ${Math.round(s / 5) * 5} s`;
	const minutes = Math.max(1, Math.round(s / 60));
	if (minutes < 60) return `about ${minutes} min`;
	const [h, m] = [Math.floor(minutes / 60), minutes % 60];
	return m ? `about ${h} h ${m} min` : `about ${h} h`;
}

const ORDINAL = new Intl.PluralRules('en', { type: 'ordinal' });
const SUFFIX: Record<string, string> = { one: 'st', two: 'nd', few: 'rd', other: 'th' };

/** 1st, 2nd, 3rd, 4th, 11th, 22nd… */
export function ordinal(n: number): string {
	return `${n}${SUFFIX[ORDINAL.select(n)] ?? 'th'}`;
}
