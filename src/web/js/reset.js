// reset.js: "Forgot password?" (#/forgot, linked from the sign-in page)
// and /reset/{token}, the page the password reset mail links to.
//
// #/forgot asks for the address and says the same thing whatever the
// server knows (the API answers 202 {} either way).  /reset/{token}
// previews the link (no sign-in needed: the token is the proof), then takes
// the new password; the reply signs this browser in (every other session
// of the account has ended) and the dashboard opens.  When the account has
// two-factor on, the reply is the sign-in's second step instead
// ({totp_required, login_token}): the code form of security.js, then the
// dashboard.  A used, replaced or
// expired link (410) and one that is not valid (404) each get a plain
// message and a way to ask for a new link.

import {get, post, humanError} from './api.js';
import {h, put, swap, say, field, ctlOf, errorBox, busy, relTime, fmtTime} from './dom.js';
import {loadMe, go} from './core.js';
import {totpStep} from './security.js';

const GONE = {
	used: ['This link was already used', 'Each password reset link works once. If you set a new password with it, sign in with that password.'],
	replaced: ['A newer link was sent', 'Only the newest password reset link works: open the most recent email from Finicom, or ask for a new link.'],
	expired: ['This link has expired', 'Password reset links work for one hour. Ask for a new one.'],
};

function stop(box, title, text) {
	swap(box.querySelector('h1'), title);
	for (const el of box.querySelectorAll(':scope > :not(h1)')) el.remove();
	put(box, h('p', {class: 'notice', role: 'alert', 'data-status': 'stop'}, text),
		h('div', {class: 'actions'}, h('a', {href: '/#/forgot', class: 'button'}, 'Ask for a new link'),
			h('a', {href: '/#/signin', class: 'button secondary'}, 'Sign in')));
}

// forgotPage(m): the address to mail a reset link to.
export function forgotPage(m) {
	const email = field('Email', {type: 'email', name: 'email', required: true, autocomplete: 'username'});
	const slot = h('div');
	const form = h('form', {class: 'card narrow', 'aria-label': 'Reset your password'},
		h('p', {}, 'Enter the email address of your account. We will mail it a link to choose a new password.'),
		errorBox(), email, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Email me a link')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			const addr = ctlOf(email).value.trim();
			await post('/auth/password-reset', {email: addr});
			const done = h('p', {class: 'notice', role: 'status', tabindex: '-1', 'data-status': 'ok'},
				say`If an account uses ${addr}, a link to choose a new password is on its way there. It works once, for one hour, and a newer link replaces it.`);
			swap(slot, done);
			done.focus();
		});
	});
	put(m, put(slot, form), h('p', {}, h('a', {href: '/#/signin'}, 'Back to sign in')));
	ctlOf(email).dataset.autofocus = '1';
}

// resetPage(box, token): the new password for the account the link was mailed to.
export async function resetPage(box, token) {
	const path = `/auth/password-reset/${encodeURIComponent(token)}`;
	let info;
	try {
		info = await get(path);
	} catch (err) {
		if (err.status === 410) {
			const [t, x] = GONE[err.body.status] || GONE.expired;
			return stop(box, t, x);
		}
		if (err.status === 404) {
			return stop(box, 'This password reset link is not valid', 'Check that you opened the whole link from the email, or ask for a new one.');
		}
		return stop(box, 'Could not open this link', humanError(err));
	}
	const emailShown = field('Email', {type: 'email', name: 'email', value: info.email, readonly: true, autocomplete: 'username'});
	const pw = field('New password', {type: 'password', name: 'password', required: true, minlength: 8, autocomplete: 'new-password'},
		{hint: 'At least 8 characters, not a common password, and not your email or name.'});
	const form = h('form', {class: 'card narrow', 'aria-label': 'Choose a new password'},
		h('p', {}, 'Setting it signs the account out everywhere else. This link expires ',
			h('time', {datetime: info.expires_at, title: fmtTime(info.expires_at)}, relTime(info.expires_at)), '.'),
		errorBox(), emailShown, pw,
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Set password and sign in')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			let r;
			try {
				r = await post(path, {password: ctlOf(pw).value});
			} catch (err) {
				if (err.status === 410) {
					const [t, x] = GONE[err.body.status] || GONE.expired;
					return stop(box, t, x);
				}
				if (err.status === 404) return stop(box, 'This password reset link is not valid', 'Ask for a new one.');
				throw err;
			}
			const signedIn = async () => {
				await loadMe();
				go('#/');
			};
			if (r && r.totp_required) return totpStep(box, r.login_token, signedIn, 'Your new password is set.');
			await signedIn();
		});
	});
	put(box, form);
	ctlOf(pw).dataset.autofocus = '1';
}
