// members.js: the Members section and the Access review page.
//
// Members is what the product page ("Team Access & Roles") describes: the
// current members with their role and last activity, and for admins the
// pending invitations in the same section, with resend and cancel, and an
// "Invite member" button that opens a dialog (email, role with a line on
// each role, send).  Every dialog is built afresh when it opens, so no
// error or choice is left over from the last time.  Role changes and
// removals ask first and say what changes for the person; demoting an
// admin, and changing your own role, need a tick that you understand.
// Everyone can leave.  Access review is an admin page.

import {post, patch, del, getAll, orgPath} from './api.js';
import {h, put, swap, say, field, ctlOf, choices, chosen, errorBox, noticeBox, table, timeEl, relTime, fmtTime, badge,
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

export async function membersPage(main, ctx) {
	const admin = isAdmin(ctx.role);
	const me = state.me.user.id;
	const [members, invitations] = await Promise.all([
		getAll(orgPath(ctx.org.id, '/members')),
		admin ? getAll(orgPath(ctx.org.id, '/invitations'), {status: 'pending'}) : null,
	]);
	const box = h('div', {}, errorBox(), noticeBox());

	const actions = (m) => {
		const ch = h('button', {type: 'button', class: 'secondary small', 'aria-label': say`Change role of ${memberName(m)}`}, 'Change role');
		ch.addEventListener('click', () => {
			clearError(box);
			clearNotice(box);
			changeRole(ctx, m, ch, box);
		});
		if (m.user.id === me) return h('div', {class: 'rowactions'}, ch);
		const rm = h('button', {type: 'button', class: 'danger small', 'aria-label': say`Remove ${memberName(m)}`}, 'Remove');
		rm.addEventListener('click', () => removeMember(ctx, m, rm, box));
		return h('div', {class: 'rowactions'}, ch, rm);
	};
	const cols = [
		{label: 'Name', cell: (m) => [memberName(m), m.user.id === me ? h('span', {class: 'you'}, ' (you)') : null]},
		{label: 'Email', cell: (m) => m.user.email},
		{label: 'Role', cell: (m) => badge(roleLabel(m.role), m.role)},
		{label: 'Last active', cell: (m) => timeEl(m.last_active_at, true, 'never')},
		{label: 'Joined', cell: (m) => timeEl(m.joined_at, false)},
	];
	if (admin) cols.push({label: 'Actions', cell: actions});

	let invite = null;
	if (admin) {
		invite = h('button', {type: 'button', class: 'create'}, 'Invite member');
		invite.addEventListener('click', () => inviteDialog(ctx, invite, box, () => invList.load()));
	}
	const invList = admin ? invitationsSection(ctx, invitations, box) : null;

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

	const count = members.length === 1 ? '1 member' : say`${members.length} members`;
	put(main,
		h('div', {class: 'sectionhead'},
			h('p', {class: 'lead'}, say`${count} of ${ctx.org.name}. Your role: `, badge(roleLabel(ctx.role), ctx.role)),
			invite),
		box,
		h('section', {'aria-labelledby': 'mem-h'},
			h('h2', {id: 'mem-h', class: 'sr-only'}, 'Current members'),
			table('Current members', cols, members, {rowAttrs: (m) => ({'data-email': m.user.email})}),
			roleGuide()),
		invList ? invList.el : null,
		h('section', {class: 'danger-zone', 'aria-labelledby': 'leave-h'},
			h('h2', {id: 'leave-h'}, 'Leave'),
			h('p', {}, 'Remove yourself from this organization. An organization always keeps at least one admin.'),
			leave));
}

// inviteDialog(ctx, opener, box, after): email, role, send; a new form every time.
async function inviteDialog(ctx, opener, box, after) {
	clearError(box);
	clearNotice(box);
	const hours = ctx.org.invite_ttl_hours;
	const ttl = hours % 24 === 0 ? (hours === 24 ? '1 day' : say`${hours / 24} days`) : (hours === 1 ? '1 hour' : say`${hours} hours`);
	const email = field('Email address', {type: 'email', name: 'email', required: true, autocomplete: 'off', spellcheck: 'false'});
	const picker = choices('Role', 'role', ROLES, 'read');
	const inv = await dialog({
		title: say`Invite a member to ${ctx.org.name}`,
		content: [email, picker, h('p', {class: 'hint'}, say`The email has a link that works for ${ttl}. Give the least access that does the job; you can change it later.`)],
		okLabel: 'Send invitation', returnFocus: opener,
		focus: () => ctlOf(email),
		onSubmit: () => post(orgPath(ctx.org.id, '/invitations'), {email: ctlOf(email).value.trim(), role: chosen(picker, 'role')}),
	});
	if (!inv) return;
	showNotice(box, say`Invitation sent to ${inv.email} as ${roleLabel(inv.role)}. The link expires ${relTime(inv.expires_at)}.`);
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

// invitationsSection(ctx, items, box): {el, load()}: the invitations of
// the Members section, pending first; a filter shows the others.
function invitationsSection(ctx, first, box) {
	const head = h('h2', {id: 'inv-h'});
	const listWrap = h('div');
	const filter = field('Show', {name: 'status', value: 'pending'}, {tag: 'select', options: STATUSES});
	const load = async () => {
		const status = ctlOf(filter).value;
		listWrap.setAttribute('aria-busy', 'true');
		try {
			const items = await getAll(orgPath(ctx.org.id, '/invitations'), {status});
			draw(status, items);
		} finally {
			listWrap.removeAttribute('aria-busy');
		}
	};
	const acts = (inv) => {
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
					await load();
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
				await load();
			});
			out.push(c);
		}
		return out.length ? h('div', {class: 'rowactions'}, out) : h('span', {class: 'muted'}, 'none');
	};
	const draw = (status, items) => {
		const pending = status === 'pending';
		swap(head, pending ? say`Pending invitations (${items.length})` : say`Invitations: ${STATUSES.find((s) => s[0] === status)[1].toLowerCase()} (${items.length})`);
		swap(listWrap, table('Invitations', [
			{label: 'Email', cell: (i) => i.email},
			{label: 'Role', cell: (i) => badge(roleLabel(i.role), i.role)},
			{label: 'Status', cell: statusLine},
			{label: 'Sent', cell: (i) => [timeEl(i.created_at), i.invited_by ? say` by ${i.invited_by.name}` : null]},
			{label: 'Mail', cell: (i) => (i.email_status ? badge(MAIL[i.email_status] || i.email_status, 'mail-' + i.email_status) : h('span', {class: 'muted'}, 'not yet'))},
			{label: 'Actions', cell: acts},
		], items, {
			empty: pending ? 'No pending invitations. Invite someone with "Invite member".' : 'No invitations with this status.',
			rowAttrs: (i) => ({'data-email': i.email, 'data-status': i.status}),
		}));
	};
	ctlOf(filter).addEventListener('change', () => load().catch((err) => showError(box, err)));
	draw('pending', first);
	const el = h('section', {'aria-labelledby': 'inv-h', id: 'invitations'},
		h('div', {class: 'sectionhead'}, head, h('div', {class: 'filters'}, filter)),
		listWrap);
	return {el, load};
}

// ---------------------------------------------------------- access review

export async function reviewPage(main, ctx) {
	const [members, pending] = await Promise.all([
		getAll(orgPath(ctx.org.id, '/members')),
		getAll(orgPath(ctx.org.id, '/invitations'), {status: 'pending'}),
	]);
	const me = state.me.user.id;
	const box = h('div', {}, errorBox(), noticeBox());
	const days = field('Inactive for at least (days)', {type: 'number', name: 'days', min: 1, max: 3650, value: '30', inputmode: 'numeric'});
	const out = h('div', {'aria-live': 'polite'});
	const counts = ROLES.map(([r, label]) => say`${members.filter((m) => m.role === r).length} ${label.toLowerCase()}`).join(', ');

	const draw = () => {
		const v = parseInt(ctlOf(days).value, 10);
		const n = Number.isFinite(v) ? Math.max(1, v) : 30;
		const limit = Date.now() - n * 86400000;
		const idle = members.filter((m) => !m.last_active_at || Date.parse(m.last_active_at) < limit);
		swap(out,
			h('p', {}, idle.length ? say`${idle.length} of ${members.length} members were not active in the last ${n} days.`
				: say`Every member was active in the last ${n} days.`),
			table('Inactive members', [
				{label: 'Name', cell: memberName},
				{label: 'Email', cell: (m) => m.user.email},
				{label: 'Role', cell: (m) => badge(roleLabel(m.role), m.role)},
				{label: 'Last active', cell: (m) => timeEl(m.last_active_at, true, 'never')},
				{label: 'Joined', cell: (m) => timeEl(m.joined_at, false)},
				{label: 'Actions', cell: (m) => {
					if (m.user.id === me) return h('span', {class: 'muted'}, 'you');
					const b = h('button', {type: 'button', class: 'danger small', 'aria-label': say`Remove ${memberName(m)}`}, 'Remove');
					b.addEventListener('click', () => removeMember(ctx, m, b, box));
					return b;
				}},
			], idle, {empty: 'No inactive members.'}));
	};
	ctlOf(days).addEventListener('input', draw);
	draw();
	const invs = invitationsSection(ctx, pending, box);
	put(main,
		h('p', {class: 'lead'}, 'Review who has access: remove members who no longer need it, lower roles to the minimum, cancel invitations nobody will use.'),
		h('p', {}, say`Roles: ${counts}.`),
		box,
		h('section', {'aria-labelledby': 'idle-h'}, h('h2', {id: 'idle-h'}, 'Inactive members'), h('div', {class: 'filters'}, days), out),
		invs.el);
}
