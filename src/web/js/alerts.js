// alerts.js: the Alerts page (admins): the org's activity alerts and its
// alert rules (docs/alerts.md).
//
// The database raises an alert when an event matches a rule (someone became
// admin, an admin API key, five removals in ten minutes, ten failed sign-ins
// for a member, a change made directly in the database, a broken audit
// chain) and mails the org's admins.  Here an admin reads them (newest
// first; Show: open, acknowledged or all), acknowledges one (a dialog says
// what that does), and turns rules on or off (checkboxes, applied by "Save
// rules", never by the click itself).

import {get, post, patch, orgPath, query} from './api.js';
import {h, put, swap, say, field, ctlOf, errorBox, noticeBox, busy, table, timeEl, badge,
	confirmDialog, showError, showNotice, clearError, clearNotice} from './dom.js';

// The rules in the API's order: [rule, name, what it watches for].
export const RULES = [
	['admin_granted', 'Someone became an admin', 'A member was made admin, or joined as one.'],
	['admin_api_key_created', 'Admin API key created', 'An API key with the admin role was created.'],
	['mass_removal', 'Many members removed', 'Five or more members were removed within ten minutes.'],
	['failed_logins', 'Repeated failed sign-ins', 'Ten or more failed sign-ins for one member\'s email within ten minutes.'],
	['db_change', 'Change made in the database', 'Something was changed directly in the database (psql), not through Finicom.'],
	['audit_chain_broken', 'Audit log tampered with', 'The periodic check found the audit log\'s hash chain broken.'],
];
const ruleName = (r) => (RULES.find((x) => x[0] === r) || [r, r])[1];

const SHOW = [['open', 'Open'], ['acknowledged', 'Acknowledged'], ['all', 'All']];

// who(a): the acknowledger as a person reads it.
function who(a) {
	if (!a) return 'someone';
	if (a.type === 'api_key') return say`the API key ${a.label || 'that was revoked'}`;
	if (a.type === 'db') return say`the database role ${a.label || 'unknown'}`;
	return a.label || 'a former member';
}

export async function alertsPage(main, ctx) {
	const base = orgPath(ctx.org.id, '/alerts');
	const rulesPath = orgPath(ctx.org.id, '/alert-rules');
	const box = h('div', {}, errorBox(), noticeBox());
	const show = field('Show', {name: 'status', value: 'open'}, {tag: 'select', options: SHOW});
	const summary = h('p', {class: 'muted', role: 'status'});
	const listSlot = h('div', {id: 'alerts'});
	const more = h('div', {class: 'pager'});
	let shown = [];

	const row = (a) => ({
		when: timeEl(a.at),
		status: a.status === 'open' ? badge('Open', 'pending')
			: [badge('Acknowledged', 'accepted'), h('small', {class: 'hint'}, ' by ', who(a.acknowledged_by), ', ', timeEl(a.acknowledged_at))],
	});
	const draw = (nextCursor) => {
		const status = ctlOf(show).value;
		const label = SHOW.find((x) => x[0] === status)[1].toLowerCase();
		swap(summary, shown.length ? say`${shown.length === 1 ? '1 alert' : `${shown.length} alerts`}${status === 'all' ? '' : ` ${label}`}, newest first.` : '');
		swap(listSlot, table('Alerts', [
			{label: 'Raised', cell: (a) => row(a).when},
			{label: 'Rule', cell: (a) => ruleName(a.rule)},
			{label: 'What happened', cell: (a) => a.summary},
			{label: 'Events', cell: (a) => String(a.event_ids.length)},
			{label: 'Status', cell: (a) => row(a).status},
			{label: 'Actions', cell: (a) => (a.status === 'open' ? ackButton(a) : h('span', {class: 'muted'}, 'none'))},
		], shown, {
			empty: status === 'open' ? 'No open alerts. When something matches a rule below, it shows here and the admins get an email.'
				: 'No alerts here yet.',
			rowAttrs: (a) => ({'data-rule': a.rule, 'data-status': a.status}),
		}));
		const btn = h('button', {type: 'button', class: 'secondary'}, 'Show older alerts');
		btn.addEventListener('click', () => run(nextCursor));
		swap(more, nextCursor ? btn : null);
	};
	const load = async (cursor) => {
		const page = await get(base + query({status: ctlOf(show).value, limit: 50, cursor}));
		shown = cursor ? shown.concat(page.items) : page.items;
		draw(page.next_cursor);
	};
	const run = async (cursor) => {
		clearError(box);
		try {
			await load(cursor);
		} catch (err) {
			showError(box, err);
		}
	};
	const ackButton = (a) => {
		const b = h('button', {type: 'button', class: 'small', 'aria-label': say`Acknowledge: ${a.summary}`}, 'Acknowledge');
		b.addEventListener('click', async () => {
			clearError(box);
			clearNotice(box);
			const ok = await confirmDialog('Acknowledge this alert?',
				[h('p', {}, a.summary), h('p', {}, 'It moves to the acknowledged alerts, with your name. The next event of this rule opens a new alert.')],
				'Acknowledge', {returnFocus: b, cancelLabel: 'Not now', danger: false, onSubmit: () => post(`${base}/${a.id}/acknowledge`).then(() => true)});
			if (!ok) return;
			showNotice(box, say`Alert acknowledged: ${ruleName(a.rule)}.`);
			await load(null);
		});
		return b;
	};
	ctlOf(show).addEventListener('change', () => run(null));

	// Rules: one checkbox each, saved together.
	const rules = await get(rulesPath);
	const boxes = rules.rules.map((r) => {
		const meta = RULES.find((x) => x[0] === r.rule) || [r.rule, r.rule, ''];
		// The description is part of the label: one line under the rule's name.
		return field([meta[1], h('br'), h('small', {class: 'hint'}, meta[2])], {type: 'checkbox', name: r.rule, checked: r.enabled});
	});
	const rulesForm = h('form', {class: 'card', 'aria-labelledby': 'rules-h'},
		h('h2', {id: 'rules-h'}, 'Alert rules'),
		h('p', {class: 'muted'}, 'Each rule that is on raises an alert and emails the admins (at most one email per rule every ten minutes; later events join the open alert).'),
		errorBox(), noticeBox(),
		h('fieldset', {class: 'choices'}, h('legend', {}, 'Raise an alert when'), boxes),
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save rules')));
	rulesForm.addEventListener('submit', (e) => {
		e.preventDefault();
		clearNotice(rulesForm);
		busy(rulesForm, async () => {
			const body = {};
			for (const f of boxes) body[ctlOf(f).name] = ctlOf(f).checked;
			const saved = await patch(rulesPath, body);
			const off = saved.rules.filter((r) => !r.enabled).map((r) => ruleName(r.rule));
			showNotice(rulesForm, off.length ? say`Rules saved. Off: ${off.join(', ')}.` : 'Rules saved. Every rule is on.');
		});
	});

	put(main, h('p', {class: 'lead'}, 'Unusual activity in this organization, found by the database as it happens. The admins get an email for each new alert.'),
		box, h('form', {class: 'filterform', 'aria-label': 'Filter alerts', onsubmit: (e) => e.preventDefault()}, h('div', {class: 'row'}, show)),
		summary, listSlot, more, rulesForm);
	await load(null);
}
