/**
 * Every API answer as a value: the data, or a problem a person can act on. The server answers
 * errors as problem details `{status, title, detail, hint?}`; a network failure becomes a problem
 * with status 0, so callers can tell "offline" from "refused".
 */

export interface Problem {
	/** The HTTP status; 0 when the server could not be reached. */
	status: number;
	title: string;
	detail: string;
	hint?: string;
	/** Seconds to wait before trying again (429 answers). */
	retryAfter?: number;
}

export type Result<T> = { ok: true; data: T } | { ok: false; problem: Problem };

export const UNREACHABLE: Problem = {
	status: 0,
	title: 'Offline',
	detail: 'The Mediastudio server cannot be reached.',
	hint: 'Check the connection; the studio keeps trying in the background.'
};

interface Answer {
	data?: unknown;
	error?: unknown;
	response: Response;
}

/** Awaits an openapi-fetch call and turns its outcome into a `Result`. */
export async function settle<T>(call: Promise<Answer>): Promise<Result<T>> {
	let answer: Answer;
	try {
		answer = await call;
	} catch (error) {
		// A network failure, or a body that is not JSON (a static host answering with index.html).
		if (error instanceof DOMException && error.name === 'AbortError') throw error;
		return { ok: false, problem: UNREACHABLE };
	}
	const { data, error, response } = answer;
	if (response.ok) return { ok: true, data: data as T };
	return { ok: false, problem: toProblem(error, response) };
}

export function toProblem(body: unknown, response: Response): Problem {
	return problemFrom(body, response.status, response.statusText, response.headers.get('Retry-After'));
}

/** A problem from an answer's parsed body (or null) and status; for callers outside openapi-fetch (uploads). */
export function problemFrom(body: unknown, status: number, statusText: string, retryAfterHeader?: string | null): Problem {
	const retry = Number(retryAfterHeader);
	const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
	if (typeof body === 'object' && body !== null && typeof (body as Problem).detail === 'string') {
		const { title, detail, hint } = body as Partial<Problem> & { detail: string };
		return {
			status,
			title: typeof title === 'string' ? title : statusText,
			detail,
			hint: typeof hint === 'string' && hint ? hint : undefined,
			retryAfter
		};
	}
	return {
		status,
		title: statusText || 'Error',
		detail: `The server answered ${status} ${statusText}`.trim() + '.',
		retryAfter
	};
}
