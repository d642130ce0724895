// verify.js: the /verify/{token} page, reached from the mail that signup
// sends, and the banner that asks a signed-in user with an unverified
// address to open it.
//
// The page POSTs the token at once (no sign-in needed: the token is the
// proof) and says what happened: verified (200), already used, replaced by
// a newer link, or expired (410), or not a valid link (404).  The banner
// offers a new link (POST /auth/verify, at most 5 a day).

import {post} from './api.js';
import {h} from './dom.js';
import {state, loadMe} from './core.js';

const GONE = {
	used: ['This link was already used', 'Each verification link works once. If your address is verified, there is nothing more to do.'],
	replaced: ['A newer link was sent', 'Only the newest verification link works: open the most recent email from Finicom.'],
	expired: ['This link has expired', 'Verification links work for 24 hours. Sign in and send yourself a new one from the banner at the top.'],
};

function result(main, title, text, ok) {
	main.querySelector('h1').textContent = title;
	main.append(h('p', {class: 'notice', role: ok ? 'status' : 'alert', 'data-status': ok ? 'ok' : 'stop'}, text),
		h('p', {}, state.me ? h('a', {href: '/#/', class: 'button'}, 'Open the dashboard')
			: h('a', {href: '/#/signin', class: 'button'}, 'Sign in')));
}

export async function verifyPage(main, token, redraw) {
	let res;
	try {
		res = await post(`/auth/verify/${encodeURIComponent(token)}`);
	} catch (err) {
		if (err.status === 410) {
			const [t, x] = GONE[err.body.status] || GONE.expired;
			return result(main, t, x, false);
		}
		if (err.status === 404) {
			return result(main, 'This verification link is not valid',
				'Check that you opened the whole link from the email.', false);
		}
		return result(main, 'Could not verify your address', err.message, false);
	}
	if (state.me && state.me.user.id === res.user.id) {
		await loadMe();
		redraw();
	}
	return result(main, 'Your email address is verified',
		`Thank you: ${res.user.email} is verified. You can now create API keys and invite people.`, true);
}

// verifyBanner(): the notice for a signed-in user whose address is not
// verified yet, or null.
export function verifyBanner() {
	const me = state.me;
	if (!me || !me.user || me.user.email_verified !== false) return null;
	const status = h('span', {role: 'status', class: 'banner-status'});
	const again = h('button', {type: 'button', class: 'secondary small'}, 'Send a new link');
	again.addEventListener('click', async () => {
		again.disabled = true;
		try {
			await post('/auth/verify');
			status.textContent = ` A new link is on its way to ${me.user.email}; older links no longer work.`;
		} catch (err) {
			status.textContent = err.code === 'already_verified' ? ' Your address is verified already.' : ` ${err.message}`;
			again.disabled = err.code !== 'rate_limited';
		}
	});
	return h('div', {id: 'verify-banner', class: 'banner', role: 'region', 'aria-label': 'Email verification'},
		h('p', {}, h('strong', {}, 'Please verify your email address. '),
			`We sent a link to ${me.user.email}. Until you open it you cannot create API keys or send invitations. `,
			again, status));
}
