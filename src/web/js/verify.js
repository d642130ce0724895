// verify.js: the /verify/{token} page, reached from the mail that signup
// sends, and the banner that asks a signed-in user with an unverified
// address to open it.
//
// The page POSTs the token at once (no sign-in needed: the token is the
// proof) and says what happened: verified (200), already used, replaced by
// a newer link, or expired (410), or not a valid link (404).  The banner
// (app.js BANNERS) shows while /me says email_verified: false, and offers a
// new link (POST /auth/verify: 202; 409 already_verified; 429 with
// Retry-After after 5 in a day).

import {post, humanError, waitWords} from './api.js';
import {h, put, swap, say} from './dom.js';
import {state, loadMe} from './core.js';

const GONE = {
	used: ['This link was already used', 'Each verification link works once. If your address is verified, there is nothing more to do.'],
	replaced: ['A newer link was sent', 'Only the newest verification link works: open the most recent email from Finicom.'],
	expired: ['This link has expired', 'Verification links work for 24 hours. Sign in and send yourself a new one from the banner at the top.'],
};

// The answer for each token opened in this page load: drawing the route
// again shows the same outcome instead of asking a second time and saying
// "already used" (a network or server failure is asked again).
const outcomes = new Map();

function result(box, title, text, ok) {
	swap(box.querySelector('h1'), title);
	put(box, h('p', {class: 'notice', role: ok ? 'status' : 'alert', 'data-status': ok ? 'ok' : 'stop'}, text),
		h('p', {}, state.me ? h('a', {href: '/#/', class: 'button'}, 'Open the dashboard')
			: h('a', {href: '/#/signin', class: 'button'}, 'Sign in')));
}

async function outcome(token) {
	if (!outcomes.has(token)) {
		outcomes.set(token, post(`/auth/verify/${encodeURIComponent(token)}`).then((res) => ({res}), (err) => {
			if (!err.status || err.status >= 500) outcomes.delete(token); // worth another try
			return {err};
		}));
	}
	return outcomes.get(token);
}

export async function verifyPage(box, token) {
	const {res, err} = await outcome(token);
	if (err) {
		if (err.status === 410) {
			const [t, x] = GONE[err.body.status] || GONE.expired;
			return result(box, t, x, false);
		}
		if (err.status === 404) {
			return result(box, 'This verification link is not valid', 'Check that you opened the whole link from the email.', false);
		}
		return result(box, 'Could not verify your address', humanError(err), false);
	}
	// Signed in as that account: /me again, so the banner goes at once
	// (the banners are drawn after this page).
	if (state.me && res.user && state.me.user.id === res.user.id) await loadMe();
	return result(box, 'Your email address is verified',
		say`Thank you: ${res.user.email} is verified. You can now create API keys and invite people.`, true);
}

// verifyBanner(me): the notice for a signed-in user whose address is not
// verified yet, or null.
export function verifyBanner(me) {
	if (!me || !me.user || me.user.email_verified !== false) return null;
	const status = h('span', {role: 'status', class: 'banner-status'});
	const again = h('button', {type: 'button', class: 'secondary small'}, 'Send a new link');
	const text = h('p', {},
		h('strong', {}, 'Please verify your email address.'), ' ',
		say`We sent a link to ${me.user.email}. Until you open it you cannot create API keys or send invitations.`, ' ',
		again, ' ', status);
	const box = h('div', {id: 'verify-banner', class: 'banner', role: 'region', 'aria-label': 'Email verification'}, text);
	again.addEventListener('click', async () => {
		again.disabled = true;
		try {
			await post('/auth/verify');
			swap(status, say`A new link is on its way to ${me.user.email}; older links no longer work.`);
			again.disabled = false;
		} catch (err) {
			if (err.code === 'already_verified') {
				// Verified meanwhile (another tab, another device): say so; the
				// banner is gone from the next page on.
				box.dataset.status = 'ok';
				swap(text, 'Your email address is verified already.');
				await loadMe().catch(() => null);
				return;
			}
			if (err.code === 'rate_limited' && err.retryAfter) {
				// The button stays off until the server would send one again.
				swap(status, say`Five new links were sent in the last day, the most there can be. The next can be sent in ${waitWords(err.retryAfter)}.`);
				setTimeout(() => (again.disabled = false), Math.min(err.retryAfter, 86400) * 1000);
				return;
			}
			swap(status, humanError(err));
			again.disabled = err.code === 'rate_limited';
		}
	});
	return box;
}
