// account.js: the Account page (#/account, from the name in the header):
// the name, the password, and the sessions of the signed-in user.
//
// - Profile: PATCH /me {name}; the header shows the new name at once.
// - Password: POST /me/password; every other session ends (this one
//   stays), so the sessions list is read again.
// - Sessions: GET /me/sessions, newest first, each with where it was made
//   (browser and system from its User-Agent, address) and "This browser"
//   for the current one; "Sign out" ends one (DELETE /me/sessions/{id}: the
//   other browser is signed out at its next request; this browser's own
//   goes to the sign-in page), "Sign out everywhere else" ends all others
//   (DELETE /me/sessions), after asking.
//
// More sections: ACCOUNT_SECTIONS (below) are drawn after the password
// section, each in a <section id="account-{id}"> of its own: two-factor
// authentication adds itself there.

import {post, patch, del, getAll, clearCsrf, session} from './api.js';
import {h, put, swap, say, field, ctlOf, errorBox, noticeBox, busy, table, timeEl, badge, confirmDialog,
	showNotice, clearNotice, clearError, showError} from './dom.js';
import {state, go} from './core.js';

// ACCOUNT_SECTIONS: {id, title, render(box, ctx)}; box is the section (its
// <h2> already in it), ctx is the page's {me, reload, redrawShell, reloadSessions}.
export const ACCOUNT_SECTIONS = [];

// device(ua): "Chrome on Linux" from a User-Agent, or null when it says nothing known.
export function device(ua) {
	if (!ua) return null;
	const browsers = [['Edg/', 'Edge'], ['OPR/', 'Opera'], ['Firefox/', 'Firefox'], ['Chromium/', 'Chromium'],
		['Chrome/', 'Chrome'], ['Safari/', 'Safari'], ['curl/', 'curl'], ['python-requests', 'Python'], ['HeadlessChrome', 'Chrome']];
	const systems = [['Android', 'Android'], ['iPhone', 'iOS'], ['iPad', 'iPadOS'], ['Windows', 'Windows'],
		['Mac OS X', 'macOS'], ['CrOS', 'ChromeOS'], ['Linux', 'Linux']];
	const b = browsers.find(([k]) => ua.includes(k));
	const s = systems.find(([k]) => ua.includes(k));
	if (!b && !s) return null;
	return b && s ? `${b[1]} on ${s[1]}` : (b || s)[1];
}

export async function accountPage(main, ctx) {
	const me = state.me;
	const pageCtx = {...ctx, me};

	// ------------------------------------------------------------ profile
	const name = field('Name', {name: 'name', required: true, maxlength: 200, autocomplete: 'name', value: me.user.name});
	const profile = h('form', {class: 'card', 'aria-labelledby': 'acc-profile-h'},
		h('h2', {id: 'acc-profile-h'}, 'Profile'), errorBox(), noticeBox(),
		h('dl', {class: 'facts'}, h('dt', {}, 'Email'), h('dd', {}, me.user.email)),
		name, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save name')));
	profile.addEventListener('submit', (e) => {
		e.preventDefault();
		clearNotice(profile);
		busy(profile, async () => {
			const res = await patch('/me', {name: ctlOf(name).value.trim()});
			state.me.user = {...state.me.user, ...res.user};
			ctlOf(name).value = res.user.name;
			if (ctx.redrawShell) ctx.redrawShell();
			showNotice(profile, say`Your name is now ${res.user.name}.`);
		});
	});

	// ----------------------------------------------------------- password
	const current = field('Current password', {type: 'password', name: 'current_password', required: true, autocomplete: 'current-password'});
	const next = field('New password', {type: 'password', name: 'new_password', required: true, minlength: 8, autocomplete: 'new-password'},
		{hint: 'At least 8 characters, not a common password, and not your email or name.'});
	const password = h('form', {class: 'card', 'aria-labelledby': 'acc-password-h'},
		h('h2', {id: 'acc-password-h'}, 'Password'),
		h('p', {}, 'Changing it signs you out everywhere else; this browser stays signed in.'),
		errorBox(), noticeBox(), h('input', {type: 'email', name: 'username', value: me.user.email, autocomplete: 'username', hidden: true, readonly: true}),
		current, next, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Change password')));
	password.addEventListener('submit', (e) => {
		e.preventDefault();
		clearNotice(password);
		busy(password, async () => {
			await post('/me/password', {current_password: ctlOf(current).value, new_password: ctlOf(next).value});
			ctlOf(current).value = '';
			ctlOf(next).value = '';
			showNotice(password, 'Your password is changed. Every other session was signed out.');
			await loadSessions();
		});
	});

	// ----------------------------------------------------------- sessions
	const sessionsBox = h('section', {class: 'card', 'aria-labelledby': 'acc-sessions-h'},
		h('h2', {id: 'acc-sessions-h'}, 'Where you are signed in'), errorBox(), noticeBox());
	const listSlot = h('div');
	const others = h('button', {type: 'button', class: 'secondary'}, 'Sign out everywhere else');
	put(sessionsBox, listSlot, h('div', {class: 'actions'}, others));

	const signedOutHere = () => {
		state.me = null;
		session.mark(false);
		clearCsrf();
		go('#/signin');
	};

	const endOne = async (s, button) => {
		clearError(sessionsBox);
		clearNotice(sessionsBox);
		const what = device(s.user_agent) || 'an unknown browser';
		const ok = await confirmDialog(s.current ? 'Sign out of this browser?' : say`Sign out ${what}?`,
			s.current ? 'You will be back at the sign-in page.'
				: say`That session (${what}, from ${s.ip || 'an unknown address'}) ends at once: its next request is refused and it has to sign in again.`,
			'Sign out', {returnFocus: button, cancelLabel: 'Keep it', danger: !s.current,
				onSubmit: () => del(`/me/sessions/${encodeURIComponent(s.id)}`).then(() => true)});
		if (!ok) return;
		if (s.current) return signedOutHere();
		// The list first, then the notice: it never stands beside a list that still shows the session.
		await loadSessions();
		showNotice(sessionsBox, say`${what} is signed out.`);
	};

	const loadSessions = async () => {
		let items;
		try {
			items = await getAll('/me/sessions');
		} catch (err) {
			if (err.status === 401) return signedOutHere();
			showError(sessionsBox, err);
			return;
		}
		others.disabled = items.length < 2;
		swap(listSlot, table('Your sessions', [
			{label: 'Browser', cell: (s) => [
				h('span', {}, device(s.user_agent) || 'Unknown browser'), s.current ? [' ', badge('This browser', 'current')] : null,
				s.user_agent ? h('small', {class: 'ua muted'}, s.user_agent) : null]},
			{label: 'Address', cell: (s) => (s.ip ? h('code', {}, s.ip) : h('span', {class: 'muted'}, 'unknown'))},
			{label: 'Signed in', cell: (s) => timeEl(s.created_at)},
			{label: 'Last active', cell: (s) => timeEl(s.last_seen_at)},
			{label: 'Actions', cell: (s) => {
				const b = h('button', {type: 'button', class: s.current ? 'secondary small' : 'danger small',
					'aria-label': s.current ? 'Sign out of this browser' : say`Sign out ${device(s.user_agent) || 'unknown browser'} signed in ${new Date(s.created_at).toLocaleString('en')}`},
				'Sign out');
				b.addEventListener('click', () => endOne(s, b));
				return b;
			}},
		], items, {empty: 'No sessions.', rowAttrs: (s) => ({'data-session': s.id, 'data-current': s.current ? 'true' : 'false'})}));
	};
	pageCtx.reloadSessions = loadSessions;

	others.addEventListener('click', async () => {
		clearError(sessionsBox);
		clearNotice(sessionsBox);
		const ok = await confirmDialog('Sign out everywhere else?',
			'Every other browser and device signed in to your account is signed out at once; this browser stays signed in.',
			'Sign out everywhere else', {returnFocus: others, cancelLabel: 'Keep them',
				onSubmit: () => del('/me/sessions').then(() => true)});
		if (!ok) return;
		await loadSessions();
		showNotice(sessionsBox, 'Every other session is signed out.');
	});

	// ------------------------------------------------- more sections (2FA)
	const more = h('div', {id: 'account-sections'});
	for (const sec of ACCOUNT_SECTIONS) {
		const hid = `account-${sec.id}-h`;
		const box = h('section', {id: `account-${sec.id}`, class: 'card', 'aria-labelledby': hid}, h('h2', {id: hid}, sec.title));
		put(more, box);
		await sec.render(box, pageCtx);
	}

	put(main, h('p', {class: 'lead'}, say`Signed in as ${me.user.email}.`), profile, password, more, sessionsBox);
	await loadSessions();
}

