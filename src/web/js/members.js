// members.js: the people pages: Members, Invitations and Access review.
//
// Members is for everyone (admins also change roles and remove people;
// everyone can leave).  Invitations and Access review are admin pages.

import {post, patch, del, getAll, orgPath} from './api.js';
import {h, field, ctlOf, errorBox, noticeBox, busy, table, timeEl, relTime, badge,
	confirmDialog, showError, showNotice, clearError, announce} from './dom.js';
import {state, isAdmin, go, orgHash, loadMe} from './core.js';

const ROLES = [['read', 'read'], ['write', 'write'], ['admin', 'admin']];
const ROLE_HELP = 'read: view only · write: manage sources, integrations, destinations and connections · admin: everything, including members, settings, billing and API keys';

const memberName = (m) => m.user.name || m.user.email;

// removeMember(ctx, member, button): confirm, DELETE, re-render.
async function removeMember(ctx, m, button, scope) {
	const ok = await confirmDialog(`Remove ${memberName(m)}?`,
		`${memberName(m)} (${m.user.email}) loses access to ${ctx.org.name} immediately.`, 'Remove member', {returnFocus: button});
	if (!ok) return;
	try {
		await del(orgPath(ctx.org.id, `/members/${m.user.id}`));
		announce(`${memberName(m)} was removed`);
		await ctx.rerender();
	} catch (err) {
		showError(scope, err);
	}
}

export async function membersPage(main, ctx) {
	const admin = isAdmin(ctx.role);
	const members = await getAll(orgPath(ctx.org.id, '/members'));
	const me = state.me.user.id;
	const box = h('div', {}, errorBox(), noticeBox());

	const roleCell = (m) => {
		if (!admin) return badge(m.role);
		const sel = h('select', {'aria-label': `Role of ${memberName(m)}`, name: 'role', class: 'compact'},
			ROLES.map(([v, t]) => h('option', {value: v, selected: v === m.role}, t)));
		sel.addEventListener('change', async () => {
			clearError(box);
			const to = sel.value;
			sel.disabled = true;
			try {
				const upd = await patch(orgPath(ctx.org.id, `/members/${m.user.id}`), {role: to});
				m.role = upd.role;
				showNotice(box, `${memberName(m)} is now ${upd.role}.`);
				if (m.user.id === me) await ctx.reload();
			} catch (err) {
				sel.value = m.role;
				showError(box, err);
			} finally {
				if (sel.isConnected) sel.disabled = false;
			}
		});
		return sel;
	};
	const actions = (m) => {
		if (!admin || m.user.id === me) return m.user.id === me ? h('span', {class: 'muted'}, 'you') : '';
		const b = h('button', {type: 'button', class: 'danger small'}, 'Remove');
		b.setAttribute('aria-label', `Remove ${memberName(m)}`);
		b.addEventListener('click', () => removeMember(ctx, m, b, box));
		return b;
	};

	const leave = h('button', {type: 'button', class: 'secondary'}, 'Leave organization');
	leave.addEventListener('click', async () => {
		const ok = await confirmDialog(`Leave ${ctx.org.name}?`,
			'You lose access to this organization until an admin invites you again.', 'Leave', {returnFocus: leave});
		if (!ok) return;
		try {
			await del(orgPath(ctx.org.id, `/members/${me}`));
			await loadMe();
			go('#/');
		} catch (err) {
			showError(box, err);
		}
	});

	main.append(
		h('p', {class: 'lead'}, `${members.length} ${members.length === 1 ? 'member' : 'members'} of ${ctx.org.name}. Your role: `, badge(ctx.role)),
		admin ? h('p', {class: 'toolbar'}, h('a', {class: 'button', href: '/' + orgHash(ctx.org.id, 'invitations')}, 'Invite member')) : null,
		box,
		table('Members', [
			{label: 'Name', cell: (m) => memberName(m)},
			{label: 'Email', cell: (m) => m.user.email},
			{label: 'Role', cell: roleCell},
			{label: 'Joined', cell: (m) => timeEl(m.joined_at, false)},
			{label: 'Last active', cell: (m) => timeEl(m.last_active_at, true, 'never')},
			{label: 'Actions', cell: actions},
		], members, {rowAttrs: (m) => ({'data-email': m.user.email})}),
		admin ? h('p', {class: 'hint'}, ROLE_HELP) : null,
		h('section', {class: 'danger-zone', 'aria-labelledby': 'leave-h'},
			h('h2', {id: 'leave-h'}, 'Leave'),
			h('p', {}, 'Remove yourself from this organization. An organization always keeps at least one admin.'),
			leave));
}

// ----------------------------------------------------------- invitations

const STATUSES = ['pending', 'accepted', 'canceled', 'expired', 'all'];

function invitationRows(ctx, items, box, after) {
	const acts = (inv) => {
		const out = [];
		if (inv.status === 'pending' || inv.status === 'expired') {
			const b = h('button', {type: 'button', class: 'secondary small', 'aria-label': `Resend invitation to ${inv.email}`}, 'Resend');
			b.addEventListener('click', async () => {
				clearError(box);
				b.disabled = true;
				try {
					await post(orgPath(ctx.org.id, `/invitations/${inv.id}/resend`));
					showNotice(box, `A new invitation email is on its way to ${inv.email}; the old link no longer works.`);
					await after();
				} catch (err) {
					showError(box, err);
					b.disabled = false;
				}
			});
			out.push(b);
		}
		if (inv.status === 'pending') {
			const c = h('button', {type: 'button', class: 'danger small', 'aria-label': `Cancel invitation to ${inv.email}`}, 'Cancel');
			c.addEventListener('click', async () => {
				if (!(await confirmDialog(`Cancel the invitation to ${inv.email}?`, 'Its link stops working at once.', 'Cancel invitation', {returnFocus: c}))) return;
				clearError(box);
				try {
					await del(orgPath(ctx.org.id, `/invitations/${inv.id}`));
					showNotice(box, `The invitation to ${inv.email} was canceled.`);
					await after();
				} catch (err) {
					showError(box, err);
				}
			});
			out.push(c);
		}
		return h('div', {class: 'rowactions'}, out);
	};
	const expires = (inv) => (inv.status === 'pending' || inv.status === 'expired'
		? h('time', {datetime: inv.expires_at, title: new Date(inv.expires_at).toLocaleString()},
			Date.parse(inv.expires_at) > Date.now() ? relTime(inv.expires_at) : `expired ${relTime(inv.expires_at)}`)
		: h('span', {class: 'muted'}, '—'));
	return table('Invitations', [
		{label: 'Email', cell: (i) => i.email},
		{label: 'Role', cell: (i) => badge(i.role)},
		{label: 'Status', cell: (i) => badge(i.status)},
		{label: 'Invited by', cell: (i) => (i.invited_by ? i.invited_by.name : '—')},
		{label: 'Expires', cell: expires},
		{label: 'Email status', cell: (i) => (i.email_status ? badge(i.email_status, 'mail-' + i.email_status) : h('span', {class: 'muted'}, '—'))},
		{label: 'Actions', cell: acts},
	], items, {empty: 'No invitations with this status.', rowAttrs: (i) => ({'data-email': i.email})});
}

export async function invitationsPage(main, ctx) {
	const box = h('div', {}, errorBox(), noticeBox());
	const listWrap = h('div', {'aria-live': 'polite'});
	const filter = field('Show', {name: 'status', value: 'pending'}, {tag: 'select', options: STATUSES.map((s) => [s, s])});
	const load = async () => {
		const items = await getAll(orgPath(ctx.org.id, '/invitations'), {status: ctlOf(filter).value});
		listWrap.replaceChildren(invitationRows(ctx, items, box, load));
	};
	ctlOf(filter).addEventListener('change', () => load().catch((err) => showError(box, err)));

	const email = field('Email', {type: 'email', name: 'email', required: true, autocomplete: 'off'});
	const role = field('Role', {name: 'role', value: 'read'}, {tag: 'select', options: ROLES});
	const days = ctx.org.invite_ttl_hours % 24 === 0 ? `${ctx.org.invite_ttl_hours / 24} days` : `${ctx.org.invite_ttl_hours} hours`;
	const form = h('form', {class: 'card', 'aria-labelledby': 'inv-h'},
		h('h2', {id: 'inv-h'}, 'Invite a member'),
		h('p', {class: 'hint'}, `The invitation email has a link that works for ${days}.`),
		errorBox(), h('div', {class: 'row'}, email, role), h('p', {class: 'hint'}, ROLE_HELP),
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Send invitation')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			const inv = await post(orgPath(ctx.org.id, '/invitations'), {email: ctlOf(email).value.trim(), role: ctlOf(role).value});
			ctlOf(email).value = '';
			showNotice(box, `Invitation sent to ${inv.email} as ${inv.role}; it expires ${relTime(inv.expires_at)}.`);
			await load();
			ctlOf(email).focus();
		});
	});
	main.append(form,
		h('section', {'aria-labelledby': 'invlist-h'},
			h('div', {class: 'sectionhead'}, h('h2', {id: 'invlist-h'}, 'Invitations'), h('div', {class: 'filters'}, filter)),
			box, listWrap));
	await load();
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
	const counts = ROLES.map(([r]) => `${members.filter((m) => m.role === r).length} ${r}`).join(' · ');

	const draw = () => {
		const v = parseInt(ctlOf(days).value, 10);
		const n = Number.isNaN(v) ? 30 : Math.max(1, v);
		const limit = Date.now() - n * 86400000;
		const idle = members.filter((m) => !m.last_active_at || Date.parse(m.last_active_at) < limit);
		out.replaceChildren(
			h('p', {}, idle.length ? `${idle.length} of ${members.length} members were not active in the last ${n} days.`
				: `Every member was active in the last ${n} days.`),
			table('Inactive members', [
				{label: 'Name', cell: memberName},
				{label: 'Email', cell: (m) => m.user.email},
				{label: 'Role', cell: (m) => badge(m.role)},
				{label: 'Last active', cell: (m) => timeEl(m.last_active_at, true, 'never')},
				{label: 'Joined', cell: (m) => timeEl(m.joined_at, false)},
				{label: 'Actions', cell: (m) => {
					if (m.user.id === me) return h('span', {class: 'muted'}, 'you');
					const b = h('button', {type: 'button', class: 'danger small', 'aria-label': `Remove ${memberName(m)}`}, 'Remove');
					b.addEventListener('click', () => removeMember(ctx, m, b, box));
					return b;
				}},
			], idle, {empty: 'No inactive members.'}));
	};
	ctlOf(days).addEventListener('input', draw);
	draw();
	main.append(
		h('p', {class: 'lead'}, 'Review who has access: remove members who no longer need it, lower roles to the minimum, cancel invitations nobody will use.'),
		h('p', {}, `Roles: ${counts}.`),
		box,
		h('section', {'aria-labelledby': 'idle-h'}, h('h2', {id: 'idle-h'}, 'Inactive members'), h('div', {class: 'filters'}, days), out),
		h('section', {'aria-labelledby': 'pend-h'}, h('h2', {id: 'pend-h'}, `Pending invitations (${pending.length})`),
			invitationRows(ctx, pending, box, () => ctx.rerender())));
}

