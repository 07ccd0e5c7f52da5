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
