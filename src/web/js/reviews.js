// reviews.js: the Access reviews page (admins): the regular review of who
// has access, as a workflow the database keeps (sql/0025_access_reviews.sql).
//
// With no review open: a "Start a review" form (an optional due date).
// With one open: every member of its snapshot in a table, each with a
// Decision select (Keep, Remove, Change role to …) saved as it changes and
// an optional note (why) saved with it,
// the count of decisions, and "Complete review" (a dialog says what will be
// applied; the API applies all of it or nothing) and "Cancel review".
// Below: how often this organization asks for a review (the org's
// access_review_interval_days, which drives the reminder mail), and the
// history of reviews, each opening its decisions.

import {getAll, post, patch, del, orgPath} from './api.js';
import {h, put, swap, say, field, ctlOf, errorBox, noticeBox, busy, table, timeEl, badge, confirmDialog,
	showError, clearError, showNotice, clearNotice} from './dom.js';
import {state, roleLabel, ROLES} from './core.js';

const STATUS = {open: 'Open', completed: 'Completed', canceled: 'Canceled'};
const person = (p) => (p ? p.name || p.email : 'a former member');

// decisionValue(item): the select's value for an item ('' undecided).
const decisionValue = (it) => (!it.decision ? '' : it.decision === 'change_role' ? `role:${it.new_role}` : it.decision);

// decisionWords(item): what was decided, in words.
function decisionWords(it) {
	if (it.decision === 'keep') return 'Keep';
	if (it.decision === 'remove') return 'Remove';
	if (it.decision === 'change_role') return say`Change role to ${roleLabel(it.new_role).toLowerCase()}`;
	return 'Not decided';
}

// dayEnd(value): the end of a yyyy-mm-dd in the browser's time zone, as RFC 3339.
function dayEnd(value) {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || '');
	return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59).toISOString() : null;
}

// decisionBody(it, value): the PATCH body of a decision, with the row's note
// (the API stores what each PATCH sends: a note left out is cleared).
function decisionBody(it, v) {
	const body = v.startsWith('role:') ? {decision: 'change_role', new_role: v.slice(5)} : {decision: v};
	if (it.note) body.note = it.note;
	return body;
}

// saveItem(ctx, review, it, value, ctl, scope, undo): PATCH the row's decision
// (value, as decisionValue gives it) with its note, ctl disabled meanwhile;
// the saved item is merged into it.  On failure undo() puts the control
// back and the error shows in scope.  Resolves true when saved.
async function saveItem(ctx, review, it, value, ctl, scope, undo) {
	ctl.disabled = true;
	clearError(scope);
	try {
		Object.assign(it, await patch(orgPath(ctx.org.id, `/access-reviews/${review.id}/items/${it.user.id}`),
			decisionBody(it, value)));
		return true;
	} catch (err) {
		undo();
		showError(scope, err);
		return false;
	} finally {
		ctl.disabled = false;
	}
}

// decisionSelect(ctx, review, it, onSaved, scope): the row's control, saving on change.
function decisionSelect(ctx, review, it, onSaved, scope) {
	const name = it.user.name || it.user.email;
	const sel = h('select', {name: `decision-${it.user.id}`, 'aria-label': say`Decision for ${name}`, 'data-user': it.user.id},
		h('option', {value: '', disabled: true}, 'Choose…'),
		h('option', {value: 'keep'}, 'Keep'),
		h('option', {value: 'remove'}, 'Remove'),
		ROLES.filter(([r]) => r !== it.role).map(([r, label]) => h('option', {value: `role:${r}`}, say`Change role to ${label.toLowerCase()}`)));
	sel.value = decisionValue(it);
	sel.addEventListener('change', async () => {
		if (await saveItem(ctx, review, it, sel.value, sel, scope, () => { sel.value = decisionValue(it); })) onSaved();
	});
	return sel;
}

// noteInput(ctx, review, it, scope): why the decision was taken (optional,
// at most 500 characters).  Saved with the decision: on its own once the
// row is decided, else with the decision when it is chosen.
function noteInput(ctx, review, it, scope) {
	const name = it.user.name || it.user.email;
	const input = h('input', {type: 'text', name: `note-${it.user.id}`, maxlength: 500, autocomplete: 'off',
		'aria-label': say`Note for ${name}`, placeholder: 'Why (optional)', value: it.note || ''});
	input.addEventListener('change', async () => {
		const before = it.note || null;
		it.note = input.value.trim() || null;
		if (!it.decision || it.note === before) return;
		await saveItem(ctx, review, it, decisionValue(it), input, scope, () => {
			it.note = before;
			input.value = before || '';
		});
	});
	return input;
}

// itemsTable(items, decide, note): the members of a review; decide(it)
// gives the Decision cell (a select while open, words afterwards), note(it)
// the Note cell.
function itemsTable(caption, items, decide, note) {
	const me = state.me.user.id;
	return table(caption, [
		{label: 'Member', cell: (it) => [it.user.name || it.user.email, it.user.id === me ? h('span', {class: 'muted'}, ' (you)') : null]},
		{label: 'Email', cell: (it) => it.user.email},
		{label: 'Role', cell: (it) => badge(roleLabel(it.role), it.role)},
		{label: 'Last active', cell: (it) => timeEl(it.last_active_at, true, 'never')},
		{label: 'Decision', cell: decide},
		{label: 'Note', cell: note},
	], items, {rowAttrs: (it) => ({'data-user': it.user.id, 'data-email': it.user.email}), empty: 'This review has no members.'});
}

// openSection(ctx, review, items, done): the review being worked on.
function openSection(ctx, review, items, done) {
	const box = h('section', {class: 'card', 'aria-labelledby': 'open-h', id: 'open-review'});
	const progress = h('p', {role: 'status', class: 'progress'});
	const complete = h('button', {type: 'button'}, 'Complete review');
	const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel review');
	const drawProgress = () => {
		const decided = items.filter((it) => it.decision).length;
		swap(progress, decided === items.length
			? say`All ${items.length} members are decided: the review can be completed.`
			: say`${decided} of ${items.length} members decided.`);
	};
	complete.addEventListener('click', async () => {
		clearError(box);
		const removes = items.filter((it) => it.decision === 'remove');
		const changes = items.filter((it) => it.decision === 'change_role' && it.new_role !== it.role);
		const undecided = items.filter((it) => !it.decision).length;
		if (undecided) {
			showError(box, new Error(say`Decide about every member first: ${undecided === 1 ? '1 member is' : `${undecided} members are`} not decided yet.`));
			return;
		}
		const lines = [
			removes.length ? h('p', {}, say`Remove ${removes.map((it) => it.user.name || it.user.email).join(', ')}.`) : null,
			changes.length ? h('p', {}, say`Change the role of ${changes.map((it) => `${it.user.name || it.user.email} to ${roleLabel(it.new_role).toLowerCase()}`).join(', ')}.`) : null,
			!removes.length && !changes.length ? h('p', {}, 'Every member keeps their access; nothing changes.') : null,
			h('p', {class: 'muted'}, 'Everything is applied at once, or nothing is.'),
		];
		const ok = await confirmDialog('Complete this access review?', lines, 'Complete review', {
			returnFocus: complete, danger: removes.length > 0,
			onSubmit: async () => post(orgPath(ctx.org.id, `/access-reviews/${review.id}/complete`)),
		});
		if (ok) await done(say`Review completed: ${removes.length === 1 ? '1 member removed' : `${removes.length} members removed`}, ${changes.length === 1 ? '1 role changed' : `${changes.length} roles changed`}.`);
	});
	cancel.addEventListener('click', async () => {
		const ok = await confirmDialog('Cancel this access review?', 'Its decisions are kept in the history; nothing is applied.',
			'Cancel review', {returnFocus: cancel, cancelLabel: 'Keep it open',
				onSubmit: async () => {
					await del(orgPath(ctx.org.id, `/access-reviews/${review.id}`));
					return true; // (a 204 has no body)
				}});
		if (ok) await done('Review canceled. Nothing was changed.');
	});
	drawProgress();
	return put(box,
		h('h2', {id: 'open-h'}, 'Open review'),
		h('p', {}, say`Started by ${person(review.created_by)} `, timeEl(review.created_at),
			review.due_at ? [say`, due `, timeEl(review.due_at, false)] : null, '.'),
		errorBox(), progress,
		itemsTable('Members of the open review', items, (it) => decisionSelect(ctx, review, it, drawProgress, box),
			(it) => noteInput(ctx, review, it, box)),
		h('div', {class: 'actions'}, complete, cancel));
}

// startForm(ctx, done): no review open.
function startForm(ctx, done) {
	const due = field('Due date (optional)', {type: 'date', name: 'due_at'});
	const form = h('form', {class: 'card inline-form', 'aria-labelledby': 'start-h', id: 'start-review'},
		h('h2', {id: 'start-h'}, 'Start a review'),
		h('p', {}, 'A review lists every current member with their role and last activity. Decide for each one to keep them, remove them or change their role, then complete the review to apply it all at once.'),
		errorBox(), due, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Start review')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			const v = ctlOf(due).value;
			await post(orgPath(ctx.org.id, '/access-reviews'), v ? {due_at: dayEnd(v)} : {});
			await done('Review started.');
		});
	});
	return form;
}

// intervalForm(ctx): how often the org asks for a review (the reminder mail).
function intervalForm(ctx) {
	const days = ctx.org.access_review_interval_days;
	const input = field('Remind admins after (days)', {type: 'number', name: 'access_review_interval_days', min: 0, max: 365,
		value: String(days ?? 90), inputmode: 'numeric', required: true},
	{hint: '0 turns reminders off; otherwise 30 to 365 days since the last completed review.'});
	const form = h('form', {class: 'card inline-form', 'aria-labelledby': 'interval-h', id: 'review-interval'},
		h('h2', {id: 'interval-h'}, 'Reminders'),
		h('p', {}, days ? say`Every admin gets an email when the last completed review is more than ${days} days old (at most once a week).`
			: 'Reminders are off.'),
		errorBox(), noticeBox(), input, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		clearNotice(form);
		busy(form, async () => {
			const n = Number(ctlOf(input).value);
			if (!Number.isInteger(n) || (n !== 0 && (n < 30 || n > 365))) {
				const err = new Error('Choose 0 to turn reminders off, or a number of days from 30 to 365.');
				err.field = 'access_review_interval_days';
				throw err;
			}
			const org = await patch(orgPath(ctx.org.id), {access_review_interval_days: n});
			ctx.org.access_review_interval_days = org.access_review_interval_days;
			showNotice(form, org.access_review_interval_days ? say`Saved: a reminder after ${org.access_review_interval_days} days.` : 'Saved: reminders are off.');
		});
	});
	return form;
}

// history(ctx, reviews): past reviews, each opening its decisions.
function history(ctx, reviews) {
	const detail = h('div', {'aria-live': 'polite', id: 'review-detail'});
	const past = reviews.filter((r) => r.status !== 'open');
	const view = async (r, button) => {
		const items = await getAll(orgPath(ctx.org.id, `/access-reviews/${r.id}/items`));
		swap(detail, h('section', {'aria-labelledby': 'detail-h', class: 'card'},
			h('h3', {id: 'detail-h', tabindex: '-1'}, say`Review of ${new Date(r.created_at).toLocaleDateString('en')} (${STATUS[r.status].toLowerCase()})`),
			itemsTable('Decisions of the review', items, (it) => [decisionWords(it),
				it.decided_by ? h('span', {class: 'muted'}, say` by ${person(it.decided_by)}`) : null],
			(it) => it.note || h('span', {class: 'muted'}, 'none'))));
		detail.querySelector('h3').focus();
		button.setAttribute('aria-expanded', 'true');
	};
	return h('section', {'aria-labelledby': 'history-h'},
		h('h2', {id: 'history-h'}, 'History'),
		table('Past access reviews', [
			{label: 'Started', cell: (r) => timeEl(r.created_at, false)},
			{label: 'By', cell: (r) => person(r.created_by)},
			{label: 'Status', cell: (r) => badge(STATUS[r.status], r.status)},
			{label: 'Completed', cell: (r) => (r.completed_at ? [timeEl(r.completed_at, false), say` by ${person(r.completed_by)}`] : h('span', {class: 'muted'}, 'no'))},
			{label: 'Decided', cell: (r) => say`${r.items_decided} of ${r.items_total}`},
			{label: 'Details', cell: (r) => {
				const b = h('button', {type: 'button', class: 'secondary small', 'aria-expanded': 'false', 'aria-controls': 'review-detail'}, 'View decisions');
				b.addEventListener('click', () => view(r, b).catch((err) => showError(b.closest('section'), err)));
				return b;
			}},
		], past, {rowAttrs: (r) => ({'data-review': r.id}), empty: 'No review has been completed or canceled yet.'}),
		errorBox(), detail);
}

export async function accessReviewsPage(main, ctx) {
	const notice = noticeBox();
	const body = h('div', {});
	const draw = async (msg) => {
		const reviews = await getAll(orgPath(ctx.org.id, '/access-reviews'));
		const open = reviews.find((r) => r.status === 'open');
		const items = open ? await getAll(orgPath(ctx.org.id, `/access-reviews/${open.id}/items`)) : [];
		const done = async (text) => {
			await draw(text);
			(main.querySelector('#open-review button, #start-review button') || main.querySelector('h1')).focus();
		};
		swap(body, open ? openSection(ctx, open, items, done) : startForm(ctx, done), intervalForm(ctx), history(ctx, reviews));
		if (msg) showNotice(main, msg);
		else clearNotice(main);
	};
	put(main, h('p', {class: 'lead'}, 'Review who has access to this organization: keep, remove or change the role of each member, then apply every decision at once.'),
		notice, body);
	await draw();
}
