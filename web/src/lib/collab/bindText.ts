/**
 * Binds a text field to a Y.Text (an attachment: `{@attach bindText(...)}`): what the user types
 * becomes an insert or delete at the right index (so two people typing in one prompt both keep
 * their words), and text others type appears in place, with this user's caret and selection kept
 * on the characters they were on.
 */
import type * as Y from 'yjs';
import { diffText, LOCAL, transformIndex } from './model';

type Field = HTMLTextAreaElement | HTMLInputElement;
type Delta = Y.YTextEvent['delta'];

export function bindText(
	text: Y.Text,
	edit: (text: Y.Text, before: string, after: string, caret?: number) => void
): (field: Field) => () => void {
	return (field) => {
		/** What the field showed after the last sync with the text. */
		let shown = text.toString();
		field.value = shown;
		let composing = false;
		/** Remote changes that arrived while an input method was composing (applied after it). */
		let deferred: Delta[] = [];

		function commit() {
			const after = field.value;
			const caret = field.selectionEnd ?? undefined;
			if (after === shown) return;
			if (!deferred.length) {
				edit(text, shown, after, caret);
			} else {
				// The field's edit is relative to what it showed: move it past what others typed meanwhile.
				const change = diffText(shown, after, caret);
				if (!change) return;
				let [start, end] = [change.index, change.index + change.remove];
				for (const delta of deferred) [start, end] = [transformIndex(start, delta), transformIndex(end, delta)];
				deferred = [];
				const current = text.toString();
				edit(text, current, current.slice(0, start) + change.insert + current.slice(Math.max(start, end)), start + change.insert.length);
				shown = text.toString();
				field.value = shown;
				field.setSelectionRange(start + change.insert.length, start + change.insert.length);
				return;
			}
			shown = text.toString();
			if (field.value !== shown) show(); // refused (a viewer): back to the text as it is
		}

		/** Puts the text into the field, keeping the caret and selection on the same characters. */
		function show(delta?: Delta) {
			const focused = document.activeElement === field;
			const [start, end, direction] = [field.selectionStart ?? 0, field.selectionEnd ?? 0, field.selectionDirection ?? 'none'];
			shown = text.toString();
			field.value = shown;
			if (focused && delta) field.setSelectionRange(transformIndex(start, delta), transformIndex(end, delta), direction);
			else if (focused) field.setSelectionRange(Math.min(start, shown.length), Math.min(end, shown.length), direction);
		}

		const observer = (event: Y.YTextEvent, transaction: Y.Transaction) => {
			if (transaction.origin === LOCAL && transaction.local) return; // this field's own edit
			if (composing) deferred.push(event.delta);
			else show(event.delta);
		};

		const oninput = () => {
			if (!composing) commit();
		};
		const oncompositionstart = () => (composing = true);
		const oncompositionend = () => {
			composing = false;
			commit();
		};

		text.observe(observer);
		field.addEventListener('input', oninput);
		field.addEventListener('compositionstart', oncompositionstart);
		field.addEventListener('compositionend', oncompositionend);
		return () => {
			text.unobserve(observer);
			field.removeEventListener('input', oninput);
			field.removeEventListener('compositionstart', oncompositionstart);
			field.removeEventListener('compositionend', oncompositionend);
		};
	};
}
