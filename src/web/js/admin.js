// admin.js: the admin pages: API keys and Settings & billing (the audit
// log is audit.js).
//
// Only admins reach these pages (app.js checks the org role first); the API
// answers 403 anyway to anyone else.  A plan change asks first and says
// what it changes; an emptied billing email field clears the address.

import {get, post, patch, del, getAll, orgPath, ApiError} from './api.js';
import {h, put, swap, say, field, ctlOf, choices, chosen, errorBox, noticeBox, busy, table, timeEl, badge, fmtTime, relTime,
	confirmDialog, showError, showNotice, clearError, clearNotice, announce} from './dom.js';
import {loadMe, go, ROLES, roleLabel} from './core.js';
import {require2faCard} from './security.js';

// ---------------------------------------------------------------- API keys

export async function apiKeysPage(main, ctx) {
	const base = orgPath(ctx.org.id, '/api-keys');
	const box = h('div', {}, errorBox(), noticeBox());
	const tokenSlot = h('div');
	const listSlot = h('div');

	const load = async () => {
		const keys = await getAll(base);
		swap(listSlot, table('API keys', [
			{label: 'Name', cell: (k) => k.name},
			{label: 'Role', cell: (k) => badge(roleLabel(k.role), k.role)},
			{label: 'Key starts with', cell: (k) => h('code', {}, k.prefix, '…')},
			{label: 'Created', cell: (k) => timeEl(k.created_at)},
			{label: 'Last used', cell: (k) => timeEl(k.last_used_at, true, 'never')},
			{label: 'Expires', cell: (k) => (k.expires_at ? timeEl(k.expires_at) : h('span', {class: 'muted'}, 'never'))},
			{label: 'Actions', cell: (k) => {
				const b = h('button', {type: 'button', class: 'danger small', 'aria-label': say`Revoke ${k.name}`}, 'Revoke');
				b.addEventListener('click', async () => {
					clearError(box);
					clearNotice(box);
					const ok = await confirmDialog(say`Revoke the API key ${k.name}?`,
						'Programs using it are refused from their very next request. This cannot be undone: a revoked key never works again.',
						'Revoke key', {returnFocus: b, cancelLabel: 'Keep key', onSubmit: () => del(`${base}/${k.id}`).then(() => true)});
					if (!ok) return;
					showNotice(box, say`API key ${k.name} was revoked.`);
					await load();
				});
				return b;
			}},
		], keys, {empty: 'No API keys yet.', rowAttrs: (k) => ({'data-name': k.name})}));
	};

	const name = field('Name', {name: 'name', required: true, maxlength: 200, autocomplete: 'off'}, {hint: 'What uses it, such as "nightly export".'});
	const role = choices('Role', 'role', ROLES, 'read');
	const exp = field('Expires', {name: 'expires_at', value: '90'}, {tag: 'select',
		options: [['30', 'in 30 days'], ['90', 'in 90 days'], ['365', 'in a year'], ['', 'never']]});
	const form = h('form', {class: 'card', 'aria-labelledby': 'key-h'},
		h('h2', {id: 'key-h'}, 'Create an API key'), errorBox(),
		h('div', {class: 'row'}, name, exp), role,
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Create API key')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			const body = {name: ctlOf(name).value.trim(), role: chosen(role, 'role')};
			const days = ctlOf(exp).value;
			if (days) body.expires_at = new Date(Date.now() + days * 86400000).toISOString().replace(/\.\d+Z$/, 'Z');
			const key = await post(base, body);
			ctlOf(name).value = '';
			form.querySelector('input[name="role"][value="read"]').checked = true;
			showToken(tokenSlot, key);
			await load();
		});
	});
	put(main, h('p', {class: 'lead'}, 'API keys let programs call the API for this organization with a role of their own. A key cannot manage API keys.'),
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
			swap(status, 'Copied.');
		} catch (err) {
			out.select();
			swap(status, 'Press Ctrl+C (⌘C) to copy the selected key.');
		}
	});
	const done = h('button', {type: 'button', class: 'secondary'}, 'Done');
	done.addEventListener('click', () => swap(slot));
	swap(slot, h('section', {class: 'card tokenbox', 'aria-labelledby': 'tok-h'},
		h('h2', {id: 'tok-h'}, say`API key ${key.name} created`),
		h('p', {}, h('strong', {}, 'Copy it now: '), 'this is the only time the key is shown. Only its hash is stored.'),
		h('label', {for: 'new-token'}, 'Your new API key'),
		h('div', {class: 'tokenrow'}, out, copy), status,
		h('p', {class: 'hint'}, 'Send it as the header: Authorization: Bearer followed by the key.'),
		h('div', {class: 'actions'}, done)));
	out.focus();
	out.select();
}

// ------------------------------------------------------- settings, billing

const PLANS = {trial: 'Trial', free: 'Free', pro: 'Pro'};

// planChange(from, to): what moving the plan changes, in a sentence or two.
function planChange(org, from, to) {
	if (to === 'free') {
		return say`On the free plan connections cannot be synced: a sync request is refused until ${org} moves to a paid plan again. Members, data and settings stay as they are.`
			+ (from === 'trial' ? ' The trial ends now.' : '');
	}
	if (to === 'pro') return say`Pro includes syncing connections. Members, data and settings stay as they are.`;
	return 'The trial includes syncing connections until it ends.';
}

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
		clearNotice(orgForm);
		busy(orgForm, async () => {
			const org = await patch(orgPath(ctx.org.id), {name: ctlOf(name).value.trim(), invite_ttl_hours: parseInt(ctlOf(ttl).value, 10)});
			await loadMe();
			ctx.org = org;
			document.querySelectorAll('#org-switch option').forEach((o) => o.value === org.id && swap(o, org.name));
			showNotice(orgForm, 'Settings saved.');
		});
	});

	const trialEnded = billing.trial_ends_at && Date.parse(billing.trial_ends_at) < Date.now();
	const facts = h('dl', {class: 'facts'},
		h('dt', {}, 'Plan'), h('dd', {}, badge(PLANS[billing.plan] || billing.plan, billing.plan), billing.plan === 'trial' && trialEnded ? ' (ended: counts as free)' : ''),
		billing.plan === 'trial' && billing.trial_ends_at ? [h('dt', {}, trialEnded ? 'Trial ended' : 'Trial ends'), h('dd', {}, fmtTime(billing.trial_ends_at), say` (${relTime(billing.trial_ends_at)})`)] : null,
		h('dt', {}, 'Billing email'), h('dd', {}, billing.billing_email || h('span', {class: 'muted'}, 'not set')),
		h('dt', {}, 'Seats used'), h('dd', {}, billing.seats_used));
	const planOpts = [['free', 'Free'], ['pro', 'Pro']];
	if (billing.plan === 'trial') planOpts.unshift(['trial', 'Trial']);
	const plan = field('Plan', {name: 'plan', value: billing.plan}, {tag: 'select', options: planOpts,
		hint: 'Syncing connections needs the trial or Pro. An admin can always move to Free; on most servers the operator sets paid plans.'});
	const bemail = field('Billing email', {type: 'email', name: 'billing_email', value: billing.billing_email || '', autocomplete: 'email'},
		{hint: 'Leave it empty to remove the billing email.'});
	const billForm = h('form', {class: 'card', 'aria-labelledby': 'bill-h'},
		h('h2', {id: 'bill-h'}, 'Billing'), facts, errorBox(), noticeBox(), h('div', {class: 'row'}, plan, bemail),
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save billing')));
	const saveButton = billForm.querySelector('button[type="submit"]');
	billForm.addEventListener('submit', async (e) => {
		e.preventDefault();
		clearError(billForm);
		clearNotice(billForm);
		const body = {};
		const to = ctlOf(plan).value;
		if (to !== billing.plan) body.plan = to;
		const em = ctlOf(bemail).value.trim();
		if (em !== (billing.billing_email || '')) body.billing_email = em || null;
		if (!Object.keys(body).length) return showNotice(billForm, 'Nothing to change.');
		if (body.plan) {
			const ok = await confirmDialog(say`Move ${ctx.org.name} from ${PLANS[billing.plan]} to ${PLANS[to]}?`,
				planChange(ctx.org.name, billing.plan, to), say`Move to ${PLANS[to]}`, {returnFocus: saveButton, danger: to === 'free', cancelLabel: 'Keep the plan'});
			if (!ok) return;
		}
		busy(billForm, async () => {
			try {
				await patch(orgPath(ctx.org.id, '/billing'), body);
			} catch (err) {
				if (err instanceof ApiError && err.status === 403 && body.plan) {
					throw new Error(say`Only the operator of this Finicom server can move ${ctx.org.name} to ${PLANS[to]} (with finicomctl set-plan). An admin can always move it to Free.`);
				}
				throw err;
			}
			await ctx.rerender();
			announce('Billing saved.');
		});
	});

	const delBtn = h('button', {type: 'button', class: 'danger'}, 'Delete organization');
	const delZone = h('section', {class: 'danger-zone', 'aria-labelledby': 'del-h'},
		h('h2', {id: 'del-h'}, 'Delete organization'), errorBox(),
		h('p', {}, say`Deletes ${ctx.org.name} with its members, invitations, API keys and data objects. Its audit events are kept.`), delBtn);
	delBtn.addEventListener('click', async () => {
		const ok = await confirmDialog(say`Delete ${ctx.org.name}?`, 'Everyone loses access at once. This cannot be undone.', 'Delete organization',
			{typeToConfirm: ctx.org.name, returnFocus: delBtn, cancelLabel: 'Keep organization', onSubmit: () => del(orgPath(ctx.org.id)).then(() => true)});
		if (!ok) return;
		await loadMe();
		go('#/orgs');
	});
	put(main, orgForm, require2faCard(ctx), billForm, delZone);
}
