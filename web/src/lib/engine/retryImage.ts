/**
 * An attachment for pictures a run has just made (`{@attach retryImage(src)}`): a worker elsewhere may
 * record the picture a moment after announcing it, so a failed load is tried again a few times.
 */
const TRIES = 8; // about 18 s in all: a busy machine may record the picture late

export function retryImage(src: string): (image: HTMLImageElement) => () => void {
	return (image) => {
		let tries = 0;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const onerror = () => {
			if (tries >= TRIES) return;
			tries += 1;
			timer = setTimeout(() => (image.src = `${src}${src.includes('?') ? '&' : '?'}try=${tries}`), 500 * tries);
		};
		image.addEventListener('error', onerror);
		return () => {
			clearTimeout(timer);
			image.removeEventListener('error', onerror);
		};
	};
}
