// members.js: the Members section.
//
// Members is what the product page ("Team Access & Roles") describes: the
// current members with their role and last activity, and for admins the
// pending invitations in the same section, with resend and cancel, and an
// "Invite member" button that opens a dialog (email, role with a line on
// each role, send).  Every dialog is built afresh when it opens, so no
// error or choice is left over from the last time.  Role changes and
// removals ask first and say what changes for the person; demoting an
// admin, and changing your own role, need a tick that you understand.
// Everyone can leave.  The Access reviews page is reviews.js.

import {post, patch, del, getAll, orgPath, sentence, waitWords} from './api.js';
import {h, put, swap, say, field, ctlOf, choices, chosen, errorBox, noticeBox, table, timeEl, relTime, fmtTime, badge, busy,
	dialog, confirmDialog, showError, showNotice, clearError, clearNotice, announce} from './dom.js';
import {state, isAdmin, go, loadMe, ROLES, roleLabel, roleChange} from './core.js';

const memberName = (m) => m.user.name || m.user.email;
const firstName = (m) => memberName(m).split(/\s+/)[0];

// ----------------------------------------------------------------- roles

// roleGuide(): what each role may do, one line each.
function roleGuide() {
	return h('details', {class: 'roleguide'},
		h('summary', {}, 'What can each role do?'),
		h('dl', {}, ROLES.map(([, label, desc]) => [h('dt', {}, label), h('dd', {}, desc)])));
}

// changeRole(ctx, m, opener, box): a dialog with the role picker; it says
// what the chosen role changes, and asks for a tick when an admin would
// stop being one or the change is your own.
async function changeRole(ctx, m, opener, box) {
	const self = m.user.id === state.me.user.id;
	const picker = choices('New role', 'role', ROLES, m.role);
	const effect = h('p', {class: 'effect', 'aria-live': 'polite'});
	const ackWrap = h('div');
	const content = [
		h('p', {}, self ? say`Your role in ${ctx.org.name} is ${roleLabel(m.role)}.` : say`${memberName(m)} (${m.user.email}) is ${roleLabel(m.role)}.`),
		picker, effect, ackWrap];
	let ok;
	const update = () => {
		const to = chosen(picker, 'role');
		const same = to === m.role;
		swap(effect, same ? 'Choose another role to see what changes.' : roleChange(self ? 'You' : memberName(m), m.role, to, self));
		effect.classList.toggle('warn', !same && m.role === 'admin');
		const needAck = !same && (self || m.role === 'admin');
		const ackText = self ? say`I understand that I will no longer be an admin of ${ctx.org.name}`
			: say`I understand that ${memberName(m)} will no longer be an admin`;
		swap(ackWrap, needAck ? field(ackText, {type: 'checkbox', name: 'acknowledge'}) : null);
		const ack = ackWrap.querySelector('input');
		if (ack) ack.addEventListener('change', () => (ok.disabled = !ack.checked));
		if (ok) {
			ok.disabled = same || needAck;
			swap(ok, same ? 'Change role' : say`Make ${self ? 'me' : firstName(m)} ${roleLabel(to)}`);
			ok.className = !same && m.role === 'admin' ? 'danger' : '';
		}
	};
	const res = await dialog({
		title: self ? 'Change your role' : say`Change the role of ${memberName(m)}`,
		content, okLabel: 'Change role', okDisabled: true, returnFocus: opener,
		focus: (form) => form.querySelector('input[name="role"]:checked'),
		onOpen: (form, button) => {
			ok = button;
			picker.addEventListener('change', update);
			update();
		},
		onSubmit: async () => {
			const to = chosen(picker, 'role');
			return patch(orgPath(ctx.org.id, `/members/${m.user.id}`), {role: to});
		},
	});
	if (!res) return;
	if (self) {
		await loadMe();
		await ctx.rerender();
		announce(say`You are now ${roleLabel(res.role)}.`);
		return;
	}
	await ctx.rerender();
	announce(say`${memberName(m)} is now ${roleLabel(res.role)}.`);
}

// removeMember(ctx, m, opener, box): confirm, DELETE, re-render.
async function removeMember(ctx, m, opener, box, after) {
	const admin = m.role === 'admin';
	const text = [
		h('p', {}, say`${memberName(m)} (${m.user.email}) loses access to ${ctx.org.name} at once: sources, integrations, destinations and connections${admin ? ', and everything an admin manages' : ''}.`),
		h('p', {}, admin ? 'Pending invitations they sent are canceled. To come back they need a new invitation.'
			: 'To come back they need a new invitation.')];
	const ok = await confirmDialog(say`Remove ${memberName(m)} from ${ctx.org.name}?`, text, 'Remove member', {
		returnFocus: opener, cancelLabel: 'Keep member',
		acknowledge: admin ? say`I understand that ${memberName(m)} is an admin and will lose admin access` : null,
		onSubmit: () => del(orgPath(ctx.org.id, `/members/${m.user.id}`)).then(() => true),
	});
	if (!ok) return;
	announce(say`${memberName(m)} was removed.`);
	await (after || ctx.rerender)();
}

// --------------------------------------------------------------- members

// The end of a membership in the browser's local time for a
// datetime-local input ("YYYY-MM-DDTHH:MM"), and back to an API time.
const pad = (n) => String(n).padStart(2, '0');
function localInput(ms) {
	const d = new Date(ms);
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
function fieldError(message, name) {
	return Object.assign(new Error(message), {field: name});
}
function futureTime(value, name) {
	const ms = Date.parse(value);
	if (!value || !Number.isFinite(ms)) throw fieldError('Choose a date and a time.', name);
	if (ms <= Date.now()) throw fieldError('Choose a time in the future.', name);
	return new Date(ms).toISOString();
}
const LAST_ADMIN_EXPIRY = 'An organization needs at least one admin whose access does not end: give another admin no end date first.';

// accessEnds(m): "no end", or when the access ends ("in 6 days").
const accessEnds = (iso) => (iso ? timeEl(iso, true) : h('span', {class: 'muted'}, 'no end'));

// setExpiry(ctx, m, opener): a dialog that sets or clears the end of m's
// access (PATCH members/{id} {expires_at}).
async function setExpiry(ctx, m, opener) {
	const self = m.user.id === state.me.user.id;
	const when = field('Access ends', {type: 'datetime-local', name: 'expires_at', required: true,
		value: localInput(m.expires_at ? Date.parse(m.expires_at) : Date.now() + 30 * 86400000), min: localInput(Date.now())},
	{hint: 'In your local time. From then on every request of theirs to this organization is refused, and they are removed within a minute.'});
	const none = field('No end date: access lasts until they are removed', {type: 'checkbox', name: 'no_end', checked: !m.expires_at});
	const sync = () => (ctlOf(when).disabled = ctlOf(none).checked);
	const res = await dialog({
		title: self ? 'When your access ends' : say`When the access of ${memberName(m)} ends`,
		content: [h('p', {}, m.expires_at ? say`Access now ends ${relTime(m.expires_at)} (${fmtTime(m.expires_at)}).` : 'Access now has no end date.'),
			none, when],
		okLabel: 'Save', returnFocus: opener, novalidate: true,
		focus: () => ctlOf(none),
		onOpen: () => {
			ctlOf(none).addEventListener('change', sync);
			sync();
		},
		onSubmit: async () => {
			const expires = ctlOf(none).checked ? null : futureTime(ctlOf(when).value, 'expires_at');
			try {
				return await patch(orgPath(ctx.org.id, `/members/${m.user.id}`), {expires_at: expires});
			} catch (err) {
				if (err.code === 'last_admin') throw new Error(LAST_ADMIN_EXPIRY);
				throw err;
			}
		},
	});
	if (!res) return;
	await ctx.rerender();
	announce(res.expires_at ? say`The access of ${memberName(m)} ends ${relTime(res.expires_at)}.` : say`The access of ${memberName(m)} no longer ends.`);
}

// The filters of the list (GET members ?q, ?role, ?inactive_days), kept
// while the page is re-rendered after a change.
const FILTERS = {q: '', role: '', inactive_days: ''};

// matchesFilters(inv, f): a pending invitation is in the list when its
// email contains q (ASCII letters folded, as the API compares) and its
// role is the one asked for; invitations are never "inactive".
const asciiLower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const matchesFilters = (inv, f) => !f.inactive_days && (!f.role || inv.role === f.role)
	&& (!f.q || asciiLower(inv.email).includes(asciiLower(f.q)));

export async function membersPage(main, ctx) {
	const admin = isAdmin(ctx.role);
	const me = state.me.user.id;
	const box = h('div', {}, errorBox(), noticeBox());
	const results = h('div');
	const listWrap = h('div', {'aria-live': 'polite'});
	const f = FILTERS;
	if (ctx.org.id !== FILTERS.org) Object.assign(FILTERS, {org: ctx.org.id, q: '', role: '', inactive_days: ''});

	const actions = (m) => {
		const ch = h('button', {type: 'button', class: 'secondary small', 'aria-label': say`Change role of ${memberName(m)}`}, 'Change role');
		ch.addEventListener('click', () => {
			clearError(box);
			clearNotice(box);
			changeRole(ctx, m, ch, box);
		});
		const ex = h('button', {type: 'button', class: 'secondary small', 'aria-label': say`Set access end of ${memberName(m)}`}, 'Set access end');
		ex.addEventListener('click', () => {
			clearError(box);
			clearNotice(box);
			setExpiry(ctx, m, ex);
		});
		if (m.user.id === me) return h('div', {class: 'rowactions'}, ch, ex);
		const rm = h('button', {type: 'button', class: 'danger small', 'aria-label': say`Remove ${memberName(m)}`}, 'Remove');
		rm.addEventListener('click', () => removeMember(ctx, m, rm, box));
		return h('div', {class: 'rowactions'}, ch, ex, rm);
	};
	// One list: members, then (for admins) the pending invitations.
	const isInv = (row) => row.kind === 'invitation';
	const cols = [
		{label: 'Name', cell: (r) => (isInv(r) ? h('span', {class: 'muted'}, 'Invited')
			: [memberName(r), r.user.id === me ? h('span', {class: 'you'}, ' (you)') : null])},
		{label: 'Email', cell: (r) => (isInv(r) ? r.email : r.user.email)},
		{label: 'Role', cell: (r) => badge(roleLabel(r.role), r.role)},
	];
	if (admin) cols.push({label: 'Status', cell: (r) => (isInv(r) ? statusLine(r) : badge('member'))});
	cols.push(
		{label: 'Last active', cell: (r) => (isInv(r) ? h('span', {class: 'muted'}, 'not yet') : timeEl(r.last_active_at, true, 'never'))},
		{label: 'Access ends', cell: (r) => accessEnds(isInv(r) ? r.membership_expires_at : r.expires_at)},
		{label: 'Joined', cell: (r) => (isInv(r) ? [say`invited `, timeEl(r.created_at), r.invited_by ? say` by ${r.invited_by.name}` : null]
			: timeEl(r.joined_at, false))});
	if (admin) cols.push({label: 'Actions', cell: (r) => (isInv(r) ? invitationActions(ctx, r, box, () => load()) : actions(r))});

	const load = async () => {
		const params = {};
		for (const k of ['q', 'role', 'inactive_days']) if (f[k]) params[k] = f[k];
		listWrap.setAttribute('aria-busy', 'true');
		try {
			const [members, invitations] = await Promise.all([
				getAll(orgPath(ctx.org.id, '/members'), params),
				admin ? getAll(orgPath(ctx.org.id, '/invitations'), {status: 'pending'}) : [],
			]);
			const invs = invitations.filter((i) => matchesFilters(i, f)).map((i) => ({...i, kind: 'invitation'}));
			const filtered = f.q || f.role || f.inactive_days;
			const found = [members.length === 1 ? '1 member' : say`${members.length} members`,
				admin ? (invs.length === 1 ? '1 pending invitation' : say`${invs.length} pending invitations`) : null].filter(Boolean).join(' and ');
			swap(listWrap,
				h('p', {class: 'muted'}, filtered ? say`${found} ${!admin && members.length === 1 ? 'matches' : 'match'} the filters.` : say`${found}.`),
				table(admin ? 'Members and pending invitations' : 'Current members', cols, [...members, ...invs], {
					empty: filtered ? 'Nobody matches these filters.' : 'No members.',
					rowAttrs: (r) => (isInv(r) ? {'data-email': r.email, 'data-kind': 'invitation', 'data-status': r.status}
						: {'data-email': r.user.email, 'data-kind': 'member'}),
				}));
		} finally {
			listWrap.removeAttribute('aria-busy');
		}
	};

	// The filters: search, role, inactive for N days.
	const q = field('Search', {type: 'search', name: 'q', maxlength: 100, value: f.q, autocomplete: 'off', spellcheck: 'false'},
		{hint: 'Part of a name or an email address.'});
	const role = field('Role', {name: 'role', value: f.role}, {tag: 'select', options: [['', 'Any role'], ...ROLES.map(([v, l]) => [v, l])]});
	const days = field('Inactive for (days)', {type: 'number', name: 'inactive_days', min: 1, max: 3650, inputmode: 'numeric', value: f.inactive_days},
		{hint: 'Not active for this many days, or never.'});
	const clearBtn = h('button', {type: 'button', class: 'secondary'}, 'Clear filters');
	const filterForm = h('form', {role: 'search', 'aria-label': 'Filter members', class: 'filters', novalidate: true},
		errorBox(), q, role, days, h('button', {type: 'submit', class: 'secondary'}, 'Apply filters'), clearBtn);
	const apply = () => busy(filterForm, async () => {
		const d = ctlOf(days).value.trim();
		if (d && !(/^\d{1,4}$/.test(d) && +d >= 1 && +d <= 3650)) throw fieldError('Inactive for: a number of days from 1 to 3650.', 'inactive_days');
		Object.assign(f, {q: ctlOf(q).value.trim(), role: ctlOf(role).value, inactive_days: d});
		await load();
	});
	filterForm.addEventListener('submit', (e) => {
		e.preventDefault();
		apply();
	});
	ctlOf(role).addEventListener('change', apply);
	clearBtn.addEventListener('click', () => {
		ctlOf(q).value = '';
		ctlOf(role).value = '';
		ctlOf(days).value = '';
		apply();
	});

	let invite = null;
	if (admin) {
		invite = h('button', {type: 'button', class: 'create'}, 'Invite member');
		invite.addEventListener('click', () => inviteDialog(ctx, invite, box, results, load));
	}
	const history = admin ? invitationsSection(ctx, [], box, {history: true}) : null;

	const leave = h('button', {type: 'button', class: 'secondary'}, 'Leave organization');
	leave.addEventListener('click', async () => {
		const ok = await confirmDialog(say`Leave ${ctx.org.name}?`,
			'You lose access to this organization at once, until an admin invites you again.', 'Leave organization', {
				returnFocus: leave, cancelLabel: 'Stay',
				onSubmit: () => del(orgPath(ctx.org.id, `/members/${me}`)).then(() => true),
			});
		if (!ok) return;
		await loadMe();
		go('#/');
	});

	await load();
	put(main,
		h('div', {class: 'sectionhead'},
			h('p', {class: 'lead'}, say`The people of ${ctx.org.name}${admin ? ' and the invitations waiting for an answer' : ''}. Your role: `, badge(roleLabel(ctx.role), ctx.role)),
			invite),
		box, results,
		h('section', {'aria-labelledby': 'mem-h'},
			h('h2', {id: 'mem-h', class: 'sr-only'}, admin ? 'Members and pending invitations' : 'Current members'),
			filterForm, listWrap, roleGuide()),
		history ? history.el : null,
		h('section', {class: 'danger-zone', 'aria-labelledby': 'leave-h'},
			h('h2', {id: 'leave-h'}, 'Leave'),
			h('p', {}, 'Remove yourself from this organization. An organization always keeps at least one admin.'),
			leave));
}

// The addresses of the invite dialog's text: one, or a list pasted from
// anywhere (commas, semicolons, spaces, new lines; "Name <address>" gives
// the address), each once (ASCII letters folded).
function addresses(text) {
	const words = text.split(/[\s,;]+/).map((w) => w.replace(/^[<("']+|[>)"']+$/g, '')).filter(Boolean);
	const list = words.length > 1 ? words.filter((w) => w.includes('@')) : words;
	const seen = new Set();
	return list.filter((w) => !seen.has(asciiLower(w)) && seen.add(asciiLower(w)));
}

// What a batch item's result says, in words.
function itemOutcome(item) {
	if (item.invitation) return say`Invited as ${roleLabel(item.invitation.role)}; the link expires ${relTime(item.invitation.expires_at)}.`;
	const e = item.error || {};
	if (e.code === 'rate_limited') return e.retry_after ? say`Not sent: too many invitation emails; try again in ${waitWords(e.retry_after)}.` : 'Not sent: too many invitation emails; try again later.';
	if (e.code === 'already_member') return 'Already a member.';
	if (e.code === 'invitation_pending') return 'Has a pending invitation already: resend it from the list.';
	return sentence(e.message || 'Not sent.');
}

// inviteDialog(ctx, opener, box, results, after): one address or a pasted
// list, a role, an optional end of access; one address is one invitation,
// a list goes to invitations/batch and its result per address is shown
// above the list.  A new form every time.
async function inviteDialog(ctx, opener, box, results, after) {
	clearError(box);
	clearNotice(box);
	swap(results);
	const hours = ctx.org.invite_ttl_hours;
	const ttl = hours % 24 === 0 ? (hours === 24 ? '1 day' : say`${hours / 24} days`) : (hours === 1 ? '1 hour' : say`${hours} hours`);
	const email = field('Email addresses', {name: 'email', required: true, autocomplete: 'off', spellcheck: 'false', rows: 2},
		{tag: 'textarea', hint: 'One address, or a list pasted from anywhere (up to 100, separated by commas, spaces or new lines).'});
	const picker = choices('Role', 'role', ROLES, 'read');
	const ends = field('Access ends (optional)', {type: 'datetime-local', name: 'membership_expires_at', min: localInput(Date.now())},
		{hint: 'Leave empty for access until removed. In your local time.'});
	const res = await dialog({
		title: say`Invite a member to ${ctx.org.name}`,
		content: [email, picker, ends, h('p', {class: 'hint'}, say`The email has a link that works for ${ttl}. Give the least access that does the job; you can change it later.`)],
		okLabel: 'Send invitation', returnFocus: opener, novalidate: true,
		focus: () => ctlOf(email),
		onSubmit: async () => {
			const list = addresses(ctlOf(email).value);
			if (!list.length) throw fieldError('Enter an email address.', 'email');
			if (list.length > 100) throw fieldError(say`That is ${list.length} addresses: at most 100 at once.`, 'email');
			const body = {role: chosen(picker, 'role')};
			if (ctlOf(ends).value) body.membership_expires_at = futureTime(ctlOf(ends).value, 'membership_expires_at');
			if (list.length === 1) return {one: await post(orgPath(ctx.org.id, '/invitations'), {...body, email: list[0]})};
			return {batch: await post(orgPath(ctx.org.id, '/invitations/batch'), {items: list.map((e) => ({...body, email: e}))})};
		},
	});
	if (!res) return;
	if (res.one) {
		showNotice(box, say`Invitation sent to ${res.one.email} as ${roleLabel(res.one.role)}. The link expires ${relTime(res.one.expires_at)}.`);
	} else {
		const items = res.batch.items;
		const sent = items.filter((i) => i.invitation).length;
		const dismiss = h('button', {type: 'button', class: 'secondary small'}, 'Dismiss');
		dismiss.addEventListener('click', () => swap(results));
		put(results, h('section', {class: 'results', 'aria-labelledby': 'res-h'},
			h('div', {class: 'sectionhead'}, h('h2', {id: 'res-h'}, say`Invitations sent: ${sent} of ${items.length}`), dismiss),
			table('Invitation results', [
				{label: 'Email', cell: (i) => i.email || h('span', {class: 'muted'}, 'no address')},
				{label: 'Result', cell: (i) => [badge(i.invitation ? 'sent' : 'not sent', i.invitation ? 'sent' : 'failed'), ' ', itemOutcome(i)]},
			], items, {rowAttrs: (i) => ({'data-email': i.email || '', 'data-result': i.invitation ? 'sent' : i.error.code})})));
		announce(say`${sent} of ${items.length} invitations sent.`);
	}
	await after();
}

// ----------------------------------------------------------- invitations

const STATUSES = [['pending', 'Pending'], ['all', 'All'], ['accepted', 'Accepted'], ['canceled', 'Canceled'], ['expired', 'Expired']];

// statusLine(inv): the status and its date: "pending, expires in 7 days",
// "accepted 2 hours ago", "canceled yesterday", "expired 3 days ago".
function statusLine(inv) {
	const at = {pending: inv.expires_at, accepted: inv.accepted_at, canceled: inv.canceled_at, expired: inv.expires_at}[inv.status];
	const when = at ? (inv.status === 'pending' ? say`expires ${relTime(at)}` : relTime(at)) : '';
	return [badge(inv.status), ' ', at ? h('time', {datetime: at, title: fmtTime(at)}, when) : null];
}

const MAIL = {queued: 'Queued', sent: 'Sent', failed: 'Not delivered', canceled: 'Not sent'};

// invitationActions(ctx, inv, box, after): Resend (pending or expired) and
// Cancel (pending) for one invitation; after() runs once either worked.
function invitationActions(ctx, inv, box, after) {
	const out = [];
	if (inv.status === 'pending' || inv.status === 'expired') {
		const b = h('button', {type: 'button', class: 'secondary small', 'aria-label': say`Resend invitation to ${inv.email}`}, 'Resend');
		b.addEventListener('click', async () => {
			clearError(box);
			clearNotice(box);
			b.disabled = true;
			try {
				await post(orgPath(ctx.org.id, `/invitations/${inv.id}/resend`));
				showNotice(box, say`A new invitation email is on its way to ${inv.email}; the old link no longer works.`);
				await after();
			} catch (err) {
				showError(box, err);
				if (b.isConnected) b.disabled = false;
			}
		});
		out.push(b);
	}
	if (inv.status === 'pending') {
		const c = h('button', {type: 'button', class: 'danger small', 'aria-label': say`Cancel invitation to ${inv.email}`}, 'Cancel invitation');
		c.addEventListener('click', async () => {
			clearError(box);
			clearNotice(box);
			const ok = await confirmDialog(say`Cancel the invitation to ${inv.email}?`,
				'Its link stops working at once. You can invite the address again later.', 'Cancel invitation', {
					returnFocus: c, cancelLabel: 'Keep invitation',
					onSubmit: () => del(orgPath(ctx.org.id, `/invitations/${inv.id}`)).then(() => true),
				});
			if (!ok) return;
			showNotice(box, say`The invitation to ${inv.email} was canceled.`);
			await after();
		});
		out.push(c);
	}
	return out.length ? h('div', {class: 'rowactions'}, out) : h('span', {class: 'muted'}, 'none');
}

// invitationsSection(ctx, items, box, opts): {el, load()}: a list of
// invitations by status, pending first.  With opts.history (the Members
// section, whose list has the pending ones already) it shows nothing
// until a status is chosen: the invitation history.
function invitationsSection(ctx, first, box, opts = {}) {
	const head = h('h2', {id: 'inv-h'});
	const listWrap = h('div');
	const options = opts.history ? [['', 'Choose…'], ['all', 'All'], ...STATUSES.filter((x) => x[0] !== 'all')] : STATUSES;
	const filter = field('Show', {name: 'status', value: opts.history ? '' : 'pending'}, {tag: 'select', options});
	const load = async () => {
		const status = ctlOf(filter).value;
		if (!status) return draw('', []);
		listWrap.setAttribute('aria-busy', 'true');
		try {
			const items = await getAll(orgPath(ctx.org.id, '/invitations'), {status});
			draw(status, items);
		} finally {
			listWrap.removeAttribute('aria-busy');
		}
	};
	const draw = (status, items) => {
		const pending = status === 'pending';
		if (!status) {
			swap(head, 'Invitation history');
			swap(listWrap, h('p', {class: 'muted'}, 'Choose which invitations to show: accepted, canceled, expired or all of them.'));
			return;
		}
		swap(head, pending ? say`Pending invitations (${items.length})` : say`Invitations: ${STATUSES.find((s) => s[0] === status)[1].toLowerCase()} (${items.length})`);
		swap(listWrap, table('Invitations', [
			{label: 'Email', cell: (i) => i.email},
			{label: 'Role', cell: (i) => badge(roleLabel(i.role), i.role)},
			{label: 'Status', cell: statusLine},
			{label: 'Sent', cell: (i) => [timeEl(i.created_at), i.invited_by ? say` by ${i.invited_by.name}` : null]},
			{label: 'Mail', cell: (i) => (i.email_status ? badge(MAIL[i.email_status] || i.email_status, 'mail-' + i.email_status) : h('span', {class: 'muted'}, 'not yet'))},
			{label: 'Actions', cell: (i) => invitationActions(ctx, i, box, load)},
		], items, {
			empty: pending ? 'No pending invitations. Invite someone with "Invite member".' : 'No invitations with this status.',
			rowAttrs: (i) => ({'data-email': i.email, 'data-status': i.status}),
		}));
	};
	ctlOf(filter).addEventListener('change', () => load().catch((err) => showError(box, err)));
	draw(opts.history ? '' : 'pending', first);
	const el = h('section', {'aria-labelledby': 'inv-h', id: 'invitations'},
		h('div', {class: 'sectionhead'}, head, h('div', {class: 'filters'}, filter)),
		listWrap);
	return {el, load};
}
