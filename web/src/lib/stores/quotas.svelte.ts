/** The signed-in person's quotas and what they use of them (`GET /api/v1/auth/me/quotas`), asked again as their
 * tasks start and end, and when a run is refused. */
import { fetchMyQuotas, type MyQuotas } from '$lib/api/quotas';

class QuotaStore {
	current = $state.raw<MyQuotas | null>(null);
	/** Whose quotas `current` holds. */
	owner: string | null = null;
	#asking: Promise<void> | null = null;
	#again = false;

	/** Asks the server for `person`'s; a call while one is on its way asks once more after it (never two at once). */
	refresh(person: string | null = this.owner): Promise<void> {
		this.owner = person;
		if (this.#asking) {
			this.#again = true;
			return this.#asking;
		}
		this.#asking = (async () => {
			do {
				this.#again = false;
				const asked = this.owner;
				const result = await fetchMyQuotas();
				if (result.ok && asked === this.owner) this.current = result.data;
			} while (this.#again);
			this.#asking = null;
		})();
		return this.#asking;
	}

	clear(): void {
		this.current = null;
		this.owner = null;
	}
}

export const myQuotas = new QuotaStore();
