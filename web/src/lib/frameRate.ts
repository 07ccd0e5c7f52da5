/** A clip's frame rate as the studio steps and shows it (the asset view and Compare): the one its file says, or 24,
 * film's, assumed (and said to be) when the file says none. */
export const ASSUMED_FPS = 24;

export interface FrameRate {
	/** Frames per second to step by. */
	fps: number;
	/** As shown: "30 fps", "23.976 fps" or "24 fps (assumed)". */
	text: string;
}

export function frameRate(said: number | null | undefined): FrameRate {
	const known = typeof said === 'number' && said > 0;
	const fps = known ? said : ASSUMED_FPS;
	return { fps, text: `${Number(fps.toFixed(3))} fps${known ? '' : ' (assumed)'}` };
}
