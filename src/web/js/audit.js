// audit.js: the Audit log page (admins), written for people.
//
// Each event is one sentence ("Ada Admin changed Walt Writer's role from
// write to read"), with the people, API keys and objects named as they are
// now when they still exist (members, API keys and the four kinds of data
// objects are read once per page load), else by what the event itself
// recorded (an email, a name), else as "a former member".  The raw event —
// action code, ids, request id, address — is one click away in a
// disclosure under the sentence.  Filters: what happened, who did it, and a
// date range (from the first day's start to the last day's end, in the
// browser's time zone; the API's from and to).  Export downloads what the
// action and the dates select as CSV or NDJSON (GET audit-events/export).  Events are cards on narrow
// screens and rows on wide ones.

import {get, getAll, orgPath, query} from './api.js';
import {h, put, swap, say, list, field, ctlOf, errorBox, timeEl, fmtTime, showError, clearError} from './dom.js';
import {roleLabel} from './core.js';

const KINDS = {source: 'sources', integration: 'integrations', destination: 'destinations', connection: 'connections'};

// The actions people can filter on, grouped as the select shows them.
const ACTION_GROUPS = [
	['Organization', [['org.created', 'Organization created'], ['org.updated', 'Organization settings changed'],
		['billing.updated', 'Plan or billing changed']]],
	['Members', [['member.added', 'Member joined'], ['member.role_changed', 'Role changed'], ['member.removed', 'Member removed or left']]],
	['Invitations', [['invitation.created', 'Invitation sent'], ['invitation.resent', 'Invitation sent again'],
		['invitation.canceled', 'Invitation canceled'], ['invitation.accepted', 'Invitation accepted'], ['invitation.expired', 'Invitation expired']]],
	['API keys', [['api_key.created', 'API key created'], ['api_key.revoked', 'API key revoked']]],
	['Access reviews', [['access_review.created', 'Review started'], ['access_review.decided', 'Decision made'],
		['access_review.completed', 'Review completed'], ['access_review.canceled', 'Review canceled'],
		['access_review.reminded', 'Reminder sent']]],
	...Object.entries(KINDS).map(([one, many]) => [many[0].toUpperCase() + many.slice(1), [
		[`${one}.created`, `${cap(one)} created`], [`${one}.updated`, `${cap(one)} changed`], [`${one}.deleted`, `${cap(one)} deleted`],
		...(one === 'connection' ? [['connection.sync_requested', 'Sync requested']] : [])]]),
];

function cap(s) {
	return s[0].toUpperCase() + s.slice(1);
}

const FIELD_WORDS = {config: 'configuration', source_id: 'source', destination_id: 'destination', integration_ids: 'integrations',
	invite_ttl_hours: 'invitation expiry', billing_email: 'billing email', trial_ends_at: 'trial end', enabled: 'on/off switch'};
const fieldWords = (xs) => list((Array.isArray(xs) ? xs : []).map((f) => FIELD_WORDS[f] || String(f).replace(/_/g, ' ')));
const role = (r) => (r ? roleLabel(r).toLowerCase() : 'a role');

// names(members, keys, objects): how the page names what an event is about.
function namer(members, keys, objects) {
	const users = new Map(members.map((m) => [m.user.id, m.user.name || m.user.email]));
	const seen = new Map(); // user id → the label (email) events recorded for them
	const keyNames = new Map(keys.map((k) => [k.id, k.name]));
	const objs = new Map(objects.map((o) => [o.id, o.name]));
	return {
		learn(events) {
			for (const e of events) {
				if (e.actor && e.actor.type === 'user' && e.actor.id && e.actor.label) seen.set(e.actor.id, e.actor.label);
				// Access review decisions record the member's email (sql/0025).
				if (e.action === 'access_review.decided' && e.target && e.target.id && e.details && e.details.email) seen.set(e.target.id, e.details.email);
			}
		},
		actor(a) {
			if (!a) return 'Someone';
			if (a.type === 'user') return users.get(a.id) || a.label || 'A former member';
			if (a.type === 'api_key') return `The API key ${keyNames.get(a.id) || a.label || 'that was revoked'}`;
			if (a.type === 'system') return 'Finicom';
			if (a.type === 'db') return `The database role ${a.label || 'unknown'}`;
			return a.label || 'Someone';
		},
		user: (id) => users.get(id) || seen.get(id) || 'a former member',
		object: (kind, id, recorded) => objs.get(id) || recorded || `a ${kind} that no longer exists`,
		key: (id, recorded) => keyNames.get(id) || recorded || 'an API key',
	};
}

// describe(e, n): the event as a sentence (a string, with its full stop).
function describe(e, n) {
	const d = e.details || {};
	const A = n.actor(e.actor);
	const tid = e.target && e.target.id;
	const selfAct = e.actor && e.actor.type === 'user' && e.actor.id === tid;
	const T = tid ? n.user(tid) : 'a former member';
	const [kind, verb] = e.action.split('.');
	switch (e.action) {
	case 'org.created': return say`${A} created the organization ${d.name || ''}.`.replace(' .', '.');
	case 'org.deleted': return say`${A} deleted the organization.`;
	case 'org.updated': {
		const parts = [];
		const changed = Array.isArray(d.changed) ? d.changed : [];
		if (changed.includes('name') && d.old && d.new) parts.push(say`renamed the organization from ${d.old.name} to ${d.new.name}`);
		if (changed.includes('invite_ttl_hours') && d.new) parts.push(say`set invitation links to expire after ${d.new.invite_ttl_hours} hours`);
		const rest = changed.filter((f) => f !== 'name' && f !== 'invite_ttl_hours');
		if (rest.length) parts.push(`changed the organization's ${fieldWords(rest)}`);
		return `${A} ${parts.length ? list(parts) : 'changed the organization settings'}.`;
	}
	case 'billing.updated': {
		const changed = Array.isArray(d.changed) ? d.changed : [];
		const parts = [];
		if (changed.includes('plan') && d.old_plan && d.new_plan) parts.push(say`moved the plan from ${d.old_plan} to ${d.new_plan}`);
		if (changed.includes('billing_email')) parts.push('changed the billing email');
		if (changed.includes('trial_ends_at')) parts.push('changed the end of the trial');
		return `${A} ${parts.length ? list(parts) : 'changed the billing settings'}.`;
	}
	case 'member.added': return selfAct ? say`${T} joined as ${role(d.role)}.` : say`${A} added ${T} as ${role(d.role)}.`;
	case 'member.removed': return selfAct ? say`${T} left the organization (was ${role(d.role)}).` : say`${A} removed ${T} (was ${role(d.role)}).`;
	case 'member.role_changed':
		return selfAct ? say`${A} changed their own role from ${role(d.old_role)} to ${role(d.new_role)}.`
			: say`${A} changed ${T}'s role from ${role(d.old_role)} to ${role(d.new_role)}.`;
	case 'member.expired': return say`${T}'s membership expired.`;
	case 'invitation.created': return say`${A} invited ${d.email || 'someone'} as ${role(d.role)}.`;
	case 'invitation.resent': return say`${A} sent the invitation to ${d.email || 'someone'} again.`;
	case 'invitation.canceled':
		if (d.reason === 'inviter_lost_admin') return say`The invitation to ${d.email || 'someone'} was canceled: the admin who sent it is no longer an admin.`;
		return say`${A} canceled the invitation to ${d.email || 'someone'}.`;
	case 'invitation.accepted': return say`${A} accepted the invitation to join as ${role(d.role)}.`;
	case 'invitation.expired': return say`The invitation to ${d.email || 'someone'} expired.`;
	case 'invitation.deleted': return say`The invitation to ${d.email || 'someone'} was deleted.`;
	case 'api_key.created': return say`${A} created the API key ${n.key(tid, d.name)} with the role ${role(d.role)}.`;
	case 'api_key.revoked': return say`${A} revoked the API key ${n.key(tid, d.name)}.`;
	case 'api_key.deleted': return say`The API key ${n.key(tid, d.name)} was deleted.`;
	case 'access_review.created': return say`${A} started an access review.`;
	case 'access_review.decided': {
		const what = d.decision === 'keep' ? 'keep' : d.decision === 'remove' ? 'remove' : 'decide about';
		return d.decision === 'change_role' ? say`${A} decided to change ${T}'s role to ${role(d.new_role)} in an access review.`
			: say`${A} decided to ${what} ${T} in an access review.`;
	}
	case 'access_review.completed': {
		const n = (k) => (Array.isArray(d[k]) ? d[k].length : 0);
		return say`${A} completed an access review: ${n('removed') === 1 ? '1 member removed' : `${n('removed')} members removed`}, ${n('role_changed') === 1 ? '1 role changed' : `${n('role_changed')} roles changed`}.`;
	}
	case 'access_review.canceled': return say`${A} canceled an access review.`;
	case 'access_review.reminded': return say`Finicom reminded the admins that an access review is due.`;
	case 'connection.sync_requested': return say`${A} requested a sync of the connection ${n.object('connection', tid)}.`;
	default: break;
	}
	if (KINDS[kind]) {
		const name = n.object(kind, tid, d.name);
		if (verb === 'created') return say`${A} created the ${kind} ${name}.`;
		if (verb === 'deleted') return say`${A} deleted the ${kind} ${d.name || name}.`;
		if (verb === 'updated') {
			if (d.integration_added) return say`${A} added the integration ${n.object('integration', d.integration_added)} to the connection ${name}.`;
			if (d.integration_removed) return say`${A} removed the integration ${n.object('integration', d.integration_removed)} from the connection ${name}.`;
			return d.changed ? say`${A} changed the ${kind} ${name}: ${fieldWords(d.changed)}.` : say`${A} changed the ${kind} ${name}.`;
		}
	}
	return say`${A}: ${e.action}.`;
}

// raw(e): the event as the API gave it, in a disclosure.
function raw(e) {
	const v = (x) => (x === null || x === undefined || x === '' ? 'none' : typeof x === 'string' ? x : JSON.stringify(x));
	const rows = [
		['Action', h('code', {}, e.action)],
		['Event id', h('code', {}, v(e.id))],
		['Actor', [v(e.actor && e.actor.type), ' ', h('code', {}, v(e.actor && e.actor.id)), e.actor && e.actor.label ? say` (${e.actor.label})` : null]],
		['Target', e.target && e.target.type ? [e.target.type, ' ', h('code', {}, v(e.target.id))] : 'none'],
		['Request id', h('code', {}, v(e.request_id))],
		['IP address', v(e.ip)],
		...Object.entries(e.details || {}).map(([k, x]) => [k.replace(/_/g, ' '), h('code', {}, v(x))]),
	];
	return h('details', {class: 'raw'},
		h('summary', {}, 'Raw event'),
		h('dl', {class: 'kv'}, rows.map(([k, x]) => [h('dt', {}, k), h('dd', {}, x)])));
}

// shortTime(iso): "Dec 1, 2:33 PM"; the year only when it is not this one.
const thisYear = new Intl.DateTimeFormat('en', {month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit'});
function shortTime(iso) {
	const d = new Date(iso);
	return d.getFullYear() === new Date().getFullYear() ? thisYear.format(d) : fmtTime(iso);
}

// dayStart(value, plusDays): the local midnight of a yyyy-mm-dd as RFC 3339.
function dayStart(value, plusDays = 0) {
	const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || '');
	if (!m) return '';
	return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays).toISOString();
}

export async function auditPage(main, ctx) {
	const base = orgPath(ctx.org.id, '/audit-events');
	const [members, keys, ...objects] = await Promise.all([
		getAll(orgPath(ctx.org.id, '/members')),
		getAll(orgPath(ctx.org.id, '/api-keys')),
		...Object.values(KINDS).map((k) => getAll(orgPath(ctx.org.id, `/${k}`))),
	]);
	const n = namer(members, keys, objects.flat());

	const actionSel = h('select', {id: 'audit-action', name: 'action'},
		h('option', {value: ''}, 'Anything'),
		ACTION_GROUPS.map(([label, opts]) => h('optgroup', {label}, opts.map(([v, t]) => h('option', {value: v}, t)))));
	const action = h('div', {class: 'field'}, h('label', {for: 'audit-action'}, 'What happened'), actionSel);
	const actor = field('Who did it', {name: 'actor_id', value: ''}, {tag: 'select',
		options: [['', 'Anyone'], ...members.map((m) => [m.user.id, m.user.name || m.user.email]),
			...keys.map((k) => [k.id, `API key ${k.name}`])]});
	const from = field('From', {type: 'date', name: 'from'});
	const to = field('To', {type: 'date', name: 'to'});

	const reset = h('button', {type: 'button', class: 'secondary'}, 'Clear filters');
	// Export: the events the filters' action and dates select, oldest first, as a file (a plain link: the
	// browser downloads it with the session cookie; the API streams it).
	const format = field('Export as', {name: 'format', value: 'csv'}, {tag: 'select',
		options: [['csv', 'CSV (spreadsheets)'], ['ndjson', 'NDJSON (one JSON event per line)']]});
	const exportLink = h('a', {class: 'button secondary', id: 'audit-export', download: ''}, 'Export');
	const exportNote = h('small', {class: 'hint', id: 'audit-export-hint'}, 'What happened and the date range apply; oldest first.');
	exportLink.setAttribute('aria-describedby', exportNote.id);
	const setExport = () => {
		let p = {};
		try {
			p = params();
		} catch (err) {
			/* the dates are the wrong way round: the export takes no range until fixed */
		}
		exportLink.href = `/api/v1${base}/export${query({format: ctlOf(format).value, action: p.action, from: p.from, to: p.to})}`;
	};
	const form = h('form', {class: 'card filterform', 'aria-label': 'Filter audit events'}, errorBox(),
		h('div', {class: 'row'}, action, actor, h('div', {class: 'daterange', role: 'group', 'aria-label': 'Date range'}, from, to)),
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Apply filters'), reset),
		h('div', {class: 'row export'}, format, h('div', {class: 'field'}, exportLink, exportNote)));
	form.addEventListener('change', setExport);
	form.addEventListener('input', setExport);
	const summary = h('p', {class: 'muted', role: 'status'});
	const listSlot = h('div', {class: 'eventlist'});
	const pager = h('div', {class: 'pager'});
	const stack = []; // cursors of the pages before the current one
	let cursor = null;

	const params = () => {
		const f = ctlOf(from).value;
		const t = ctlOf(to).value;
		if (f && t && f > t) {
			const err = new Error('The start date is after the end date.');
			err.field = 'from';
			throw err;
		}
		return {action: actionSel.value, actor_id: ctlOf(actor).value, from: dayStart(f), to: dayStart(t, 1)};
	};
	const load = async () => {
		const p = params();
		const q = query({limit: 50, cursor, ...p});
		listSlot.setAttribute('aria-busy', 'true');
		const page = await get(base + q);
		n.learn(page.items);
		listSlot.dataset.query = q;
		listSlot.setAttribute('aria-busy', 'false');
		const filtered = p.action || p.actor_id || p.from || p.to;
		swap(summary, page.items.length
			? say`${page.items.length === 1 ? '1 event' : `${page.items.length} events`}${page.next_cursor ? ' on this page' : ''}${filtered ? ' match the filters' : ''}, newest first.`
			: '');
		swap(listSlot, page.items.length
			? h('ol', {class: 'events', 'aria-label': 'Audit events, newest first'}, page.items.map((e) => h('li', {class: 'event', 'data-action': e.action},
				h('p', {class: 'when'}, timeEl(e.at), h('span', {class: 'exact'}, shortTime(e.at))),
				h('p', {class: 'what'}, describe(e, n)),
				raw(e))))
			: h('p', {class: 'empty'}, filtered ? 'No events match these filters.' : 'No events yet.'));
		const newer = h('button', {type: 'button', class: 'secondary', disabled: !stack.length}, '← Newer');
		const older = h('button', {type: 'button', class: 'secondary', disabled: !page.next_cursor}, 'Older →');
		newer.addEventListener('click', () => {
			cursor = stack.pop() ?? null;
			run(true);
		});
		older.addEventListener('click', () => {
			stack.push(cursor);
			cursor = page.next_cursor;
			run(true);
		});
		swap(pager, stack.length || page.next_cursor ? [newer, h('span', {class: 'muted'}, say`Page ${stack.length + 1}`), older] : null);
	};
	const run = async (focusAfter) => {
		clearError(form);
		try {
			await load();
			if (focusAfter) (pager.querySelector('button:not([disabled])') || listSlot).focus();
		} catch (err) {
			listSlot.setAttribute('aria-busy', 'false');
			showError(form, err);
		}
	};
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		stack.length = 0;
		cursor = null;
		run();
	});
	reset.addEventListener('click', () => {
		actionSel.value = '';
		ctlOf(actor).value = '';
		ctlOf(from).value = '';
		ctlOf(to).value = '';
		stack.length = 0;
		cursor = null;
		setExport();
		run();
	});
	setExport();
	put(main, h('p', {class: 'lead'}, 'Everything that changed in this organization, newest first. The database writes these events itself; nobody can edit them.'),
		form, summary, listSlot, pager);
	await load();
}
