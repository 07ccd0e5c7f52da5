/**
 * The guided tour's state, kept per person on the server (`/api/v1/auth/me/preferences`): whether they saw it,
 * skipped it, finished it, or where they are in it. Each change is sent at once (the last one wins); a change the
 * server did not take is kept here for this visit, so the tour never blocks on the network.
 */
import { fetchPreferences, updatePreferences, type PreferencesPatch, type TourStatus } from '$lib/api/preferences';

class TourStore {
	/** The signed-in person the state below belongs to; null until it is loaded. */
	userId = $state<string | null>(null);
	status = $state<TourStatus>('new');
	step = $state(0);
	/** The tour's card is on screen. */
	open = $state(false);
	/** Asked for from the menu in this visit: the studio starts it on opening, whatever it was. */
	requested = $state(false);
	#loading: Promise<void> | null = null;
	#saving: Promise<unknown> = Promise.resolve();

	/** Fetches `userId`'s state (once per person; again when someone else signs in). */
	load(userId: string): Promise<void> {
		if (this.userId === userId) return Promise.resolve();
		this.#loading ??= this.#load(userId).finally(() => (this.#loading = null));
		return this.#loading;
	}

	async #load(userId: string): Promise<void> {
		const answer = await fetchPreferences();
		// Asked for from the menu before the state arrived (in the gallery): that request is the newer word.
		// (Someone else signing in after that starts from their own state.)
		if (!this.requested || this.userId !== null) {
			this.status = answer.ok ? answer.data.tour_status : 'done'; // unknown: never push a tour on anyone
			this.step = answer.ok ? answer.data.tour_step : 0;
			this.open = false;
			this.requested = false;
		}
		this.userId = userId;
	}

	#save(change: PreferencesPatch): void {
		this.#saving = this.#saving.then(() => updatePreferences(change));
	}

	/** Shows the tour at `step` (the first by default). */
	start(step = 0): void {
		this.status = 'active';
		this.step = step;
		this.open = true;
		this.#save({ tour_status: 'active', tour_step: step });
	}

	/** Shows the tour where it was left. */
	resume(): void {
		this.open = true;
	}

	goTo(step: number): void {
		this.step = step;
		this.#save({ tour_step: step });
	}

	/** Ends it unfinished: it does not come back by itself (the menu replays it). */
	skip(): void {
		this.open = false;
		this.requested = false;
		this.status = 'skipped';
		this.#save({ tour_status: 'skipped' });
	}

	finish(): void {
		this.open = false;
		this.requested = false;
		this.status = 'done';
		this.#save({ tour_status: 'done', tour_step: 0 });
	}

	/** "Take the tour" in the menu: from the first step, now if the studio is open, else when a project opens. */
	replay(): void {
		this.requested = true;
		this.start(0);
	}

	/** Waits for the changes sent so far (tests, and before leaving). */
	settled(): Promise<unknown> {
		return this.#saving;
	}
}

export const tour = new TourStore();
