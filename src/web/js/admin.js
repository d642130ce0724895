// admin.js: the admin pages: API keys, Settings & billing, Audit log.
//
// Only admins reach these pages (app.js checks the org role first); the API
// answers 403 anyway to anyone else.

import {get, post, patch, del, getAll, orgPath, query} from './api.js';
import {h, field, ctlOf, errorBox, noticeBox, busy, table, timeEl, badge, fmtTime, relTime,
	confirmDialog, showError, showNotice, clearError, announce} from './dom.js';
import {loadMe, go} from './core.js';

const ROLES = [['read', 'read'], ['write', 'write'], ['admin', 'admin']];

// ---------------------------------------------------------------- API keys

export async function apiKeysPage(main, ctx) {
	const base = orgPath(ctx.org.id, '/api-keys');
	const box = h('div', {}, errorBox(), noticeBox());
	const tokenSlot = h('div');
	const listSlot = h('div');

	const load = async () => {
		const keys = await getAll(base);
		listSlot.replaceChildren(table('API keys', [
			{label: 'Name', cell: (k) => k.name},
			{label: 'Role', cell: (k) => badge(k.role)},
			{label: 'Key starts with', cell: (k) => h('code', {}, k.prefix + '…')},
			{label: 'Created', cell: (k) => timeEl(k.created_at)},
			{label: 'Last used', cell: (k) => timeEl(k.last_used_at, true, 'never')},
			{label: 'Expires', cell: (k) => (k.expires_at ? timeEl(k.expires_at) : h('span', {class: 'muted'}, 'never'))},
			{label: 'Actions', cell: (k) => {
				const b = h('button', {type: 'button', class: 'danger small', 'aria-label': `Revoke ${k.name}`}, 'Revoke');
				b.addEventListener('click', async () => {
					const ok = await confirmDialog(`Revoke API key ${k.name}?`,
						'Programs using it get 401 on their very next request.', 'Revoke key', {returnFocus: b});
					if (!ok) return;
					clearError(box);
					try {
						await del(`${base}/${k.id}`);
						showNotice(box, `API key ${k.name} was revoked.`);
						await load();
					} catch (err) {
						showError(box, err);
					}
				});
				return b;
			}},
		], keys, {empty: 'No API keys.', rowAttrs: (k) => ({'data-name': k.name})}));
	};

	const name = field('Name', {name: 'name', required: true, maxlength: 200, autocomplete: 'off'}, {hint: 'What uses it, such as "nightly export".'});
	const role = field('Role', {name: 'role', value: 'read'}, {tag: 'select', options: ROLES});
	const exp = field('Expires', {name: 'expires_at', value: '90'}, {tag: 'select',
		options: [['30', 'in 30 days'], ['90', 'in 90 days'], ['365', 'in a year'], ['', 'never']]});
	const form = h('form', {class: 'card', 'aria-labelledby': 'key-h'},
		h('h2', {id: 'key-h'}, 'Create an API key'), errorBox(),
		h('div', {class: 'row'}, name, role, exp),
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Create API key')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			const body = {name: ctlOf(name).value.trim(), role: ctlOf(role).value};
			const days = ctlOf(exp).value;
			if (days) body.expires_at = new Date(Date.now() + days * 86400000).toISOString().replace(/\.\d+Z$/, 'Z');
			const key = await post(base, body);
			ctlOf(name).value = '';
			showToken(tokenSlot, key);
			await load();
		});
	});
	main.append(h('p', {class: 'lead'}, 'API keys let programs call the API for this organization with a role of their own.'),
		form, tokenSlot, box, h('section', {'aria-labelledby': 'keys-h'}, h('h2', {id: 'keys-h'}, 'Keys'), listSlot));
	await load();
}

// showToken(slot, key): the new key's token, once, with a copy button.
function showToken(slot, key) {
	const out = h('input', {id: 'new-token', readonly: true, value: key.token, class: 'token', spellcheck: 'false'});
	const status = h('span', {role: 'status', class: 'copied'});
	const copy = h('button', {type: 'button'}, 'Copy');
	copy.addEventListener('click', async () => {
		try {
			await navigator.clipboard.writeText(key.token);
			status.textContent = 'Copied.';
		} catch (err) {
			out.select();
			status.textContent = document.execCommand('copy') ? 'Copied.' : 'Press Ctrl+C (⌘C) to copy the selected key.';
		}
	});
	const done = h('button', {type: 'button', class: 'secondary'}, 'Done');
	done.addEventListener('click', () => slot.replaceChildren());
	slot.replaceChildren(h('section', {class: 'card tokenbox', 'aria-labelledby': 'tok-h'},
		h('h2', {id: 'tok-h'}, `API key ${key.name} created`),
		h('p', {}, h('strong', {}, 'Copy it now: '), 'this is the only time the key is shown. Only its hash is stored.'),
		h('label', {for: 'new-token'}, 'Your new API key'),
		h('div', {class: 'tokenrow'}, out, copy), status,
		h('p', {class: 'hint'}, 'Use it as: Authorization: Bearer <key>'),
		h('div', {class: 'actions'}, done)));
	out.focus();
	out.select();
}

// ------------------------------------------------------- settings, billing

export async function settingsPage(main, ctx) {
	const billing = await get(orgPath(ctx.org.id, '/billing'));
	const name = field('Organization name', {name: 'name', required: true, maxlength: 200, value: ctx.org.name});
	const ttl = field('Invitations expire after (hours)', {type: 'number', name: 'invite_ttl_hours', min: 1, max: 720, required: true,
		value: String(ctx.org.invite_ttl_hours), inputmode: 'numeric'}, {hint: '1 to 720 hours; the default 168 is 7 days.'});
	const orgForm = h('form', {class: 'card', 'aria-labelledby': 'set-h'},
		h('h2', {id: 'set-h'}, 'Organization'), errorBox(), noticeBox(), h('div', {class: 'row'}, name, ttl),
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save settings')));
	orgForm.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(orgForm, async () => {
			const org = await patch(orgPath(ctx.org.id), {name: ctlOf(name).value.trim(), invite_ttl_hours: parseInt(ctlOf(ttl).value, 10)});
			await loadMe();
			ctx.org = org;
			document.querySelectorAll('#org-switch option').forEach((o) => o.value === org.id && (o.textContent = org.name));
			showNotice(orgForm, 'Settings saved.');
		});
	});

	const trialEnded = billing.trial_ends_at && Date.parse(billing.trial_ends_at) < Date.now();
	const facts = h('dl', {class: 'facts'},
		h('dt', {}, 'Plan'), h('dd', {}, badge(billing.plan), billing.plan === 'trial' && trialEnded ? ' (ended: counts as free)' : ''),
		h('dt', {}, 'Trial ends'), h('dd', {}, billing.trial_ends_at
			? [fmtTime(billing.trial_ends_at), ` (${relTime(billing.trial_ends_at)})`] : '—'),
		h('dt', {}, 'Billing email'), h('dd', {}, billing.billing_email || h('span', {class: 'muted'}, 'not set')),
		h('dt', {}, 'Seats used'), h('dd', {}, String(billing.seats_used)));
	const planOpts = [['free', 'free'], ['pro', 'pro']];
	if (billing.plan === 'trial') planOpts.unshift(['trial', 'trial']);
	const plan = field('Plan', {name: 'plan', value: billing.plan}, {tag: 'select', options: planOpts,
		hint: 'Syncing connections needs trial or pro.'});
	const bemail = field('Billing email', {type: 'email', name: 'billing_email', value: billing.billing_email || '', autocomplete: 'email'});
	const billForm = h('form', {class: 'card', 'aria-labelledby': 'bill-h'},
		h('h2', {id: 'bill-h'}, 'Billing'), facts, errorBox(), noticeBox(), h('div', {class: 'row'}, plan, bemail),
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save billing')));
	billForm.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(billForm, async () => {
			const body = {};
			if (ctlOf(plan).value !== billing.plan) body.plan = ctlOf(plan).value;
			const em = ctlOf(bemail).value.trim();
			if (em && em !== (billing.billing_email || '')) body.billing_email = em;
			if (!Object.keys(body).length) return showNotice(billForm, 'Nothing to change.');
			await patch(orgPath(ctx.org.id, '/billing'), body);
			await ctx.rerender();
			announce('Billing saved');
		});
	});

	const delBtn = h('button', {type: 'button', class: 'danger'}, 'Delete organization');
	const delZone = h('section', {class: 'danger-zone', 'aria-labelledby': 'del-h'},
		h('h2', {id: 'del-h'}, 'Delete organization'), errorBox(),
		h('p', {}, `Deletes ${ctx.org.name} with its members, invitations, API keys and data objects. Its audit events are kept.`), delBtn);
	delBtn.addEventListener('click', async () => {
		const ok = await confirmDialog(`Delete ${ctx.org.name}?`, 'This cannot be undone.', 'Delete organization',
			{typeToConfirm: ctx.org.name, returnFocus: delBtn});
		if (!ok) return;
		try {
			await del(orgPath(ctx.org.id));
			await loadMe();
			go('#/orgs');
		} catch (err) {
			showError(delZone, err);
		}
	});
	main.append(orgForm, billForm, delZone);
}

// --------------------------------------------------------------- audit log

const ACTIONS = ['org.created', 'org.updated', 'billing.updated', 'member.added', 'member.role_changed', 'member.removed',
	'invitation.created', 'invitation.resent', 'invitation.canceled', 'invitation.accepted', 'invitation.expired',
	'api_key.created', 'api_key.revoked', 'source.created', 'source.updated', 'source.deleted',
	'integration.created', 'integration.updated', 'integration.deleted', 'destination.created', 'destination.updated',
	'destination.deleted', 'connection.created', 'connection.updated', 'connection.deleted', 'connection.sync_requested'];

export async function auditPage(main, ctx) {
	const base = orgPath(ctx.org.id, '/audit-events');
	const [members, keys] = await Promise.all([
		getAll(orgPath(ctx.org.id, '/members')),
		getAll(orgPath(ctx.org.id, '/api-keys')).catch(() => []),
	]);
	const action = field('Action', {name: 'action', value: ''}, {tag: 'select',
		options: [['', 'any action'], ...ACTIONS.map((a) => [a, a])]});
	const actor = field('Actor', {name: 'actor_id', value: ''}, {tag: 'select',
		options: [['', 'anyone'], ...members.map((m) => [m.user.id, `${m.user.name} (${m.user.email})`]),
			...keys.map((k) => [k.id, `API key ${k.name}`])]});
	const form = h('form', {class: 'filters card', 'aria-label': 'Filter audit events'}, errorBox(),
		h('div', {class: 'row'}, action, actor), h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Apply filters')));
	const listSlot = h('div');
	const pager = h('div', {class: 'pager'});
	const stack = []; // cursors of the pages before the current one
	let cursor = null;

	const load = async () => {
		const q = query({limit: 50, cursor, action: ctlOf(action).value, actor_id: ctlOf(actor).value});
		listSlot.setAttribute('aria-busy', 'true');
		const page = await get(base + q);
		listSlot.dataset.query = q;
		listSlot.setAttribute('aria-busy', 'false');
		listSlot.replaceChildren(table('Audit events, newest first', [
			{label: 'When', cell: (e) => timeEl(e.at)},
			{label: 'Action', cell: (e) => h('code', {}, e.action)},
			{label: 'Actor', cell: (e) => [e.actor.label || '—', ' ', h('span', {class: 'muted'}, `(${e.actor.type})`)]},
			{label: 'Target', cell: (e) => (e.target ? [e.target.type, ' ', h('code', {title: e.target.id || ''}, e.target.id ? e.target.id.slice(0, 8) : '')] : '—')},
			{label: 'Details', cell: (e) => details(e.details)},
			{label: 'IP', cell: (e) => e.ip || '—'},
		], page.items, {empty: 'No audit events match.', rowAttrs: (e) => ({'data-action': e.action})}));
		const newer = h('button', {type: 'button', class: 'secondary', disabled: !stack.length}, '← Newer');
		const older = h('button', {type: 'button', class: 'secondary', disabled: !page.next_cursor}, 'Older →');
		newer.addEventListener('click', () => {
			cursor = stack.pop() ?? null;
			run(newer);
		});
		older.addEventListener('click', () => {
			stack.push(cursor);
			cursor = page.next_cursor;
			run(older);
		});
		pager.replaceChildren(newer, h('span', {class: 'muted'}, `page ${stack.length + 1}`), older);
	};
	const run = async (focusAfter) => {
		clearError(form);
		try {
			await load();
			if (focusAfter) (pager.querySelector('button:not([disabled])') || listSlot).focus();
		} catch (err) {
			showError(form, err);
		}
	};
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		stack.length = 0;
		cursor = null;
		run();
	});
	main.append(h('p', {class: 'lead'}, 'Everything that changed in this organization, newest first. Events are written by the database and cannot be edited.'),
		form, listSlot, pager);
	await load();
}

function details(d) {
	const keys = Object.keys(d || {});
	if (!keys.length) return h('span', {class: 'muted'}, '—');
	return h('dl', {class: 'kv'}, keys.map((k) => [h('dt', {}, k),
		h('dd', {}, typeof d[k] === 'string' ? d[k] : JSON.stringify(d[k]))]));
}
