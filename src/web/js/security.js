// security.js: two-factor authentication (docs/two-factor.md).
//
// - securityPage: #/account/security ("Two-factor authentication" in the
//   user menu): turn it on (a new secret shown as a QR code and as text,
//   a code from the app to confirm, then the ten recovery codes, once,
//   with a Copy button) or off (a code or a recovery code).
// - totpStep: the sign-in's second step, when POST /auth/login answers
//   {totp_required: true, login_token}: a code from the app or a recovery
//   code.
// - require2faCard: the org settings' "Require two-factor authentication"
//   switch (admins; 409 two_factor_required said in words).
//
// The QR code is drawn on a canvas by the vendored qrcode-generator
// (vendor/qrcode.js, MIT): nothing is fetched, the secret never leaves
// the page.

import {api, post, patch, orgPath, ApiError} from './api.js';
import {h, put, swap, field, ctlOf, errorBox, noticeBox, busy, showNotice, clearNotice, announce, say} from './dom.js';
import {state, loadMe} from './core.js';
import qrcode from '../vendor/qrcode.js';

export const SECURITY_HASH = '#/account/security';

// A code field: six digits from the app, or (recovery) a recovery code too.
function codeField(recovery) {
	return field(recovery ? 'Code from your app, or a recovery code' : 'Code from your app',
		{name: 'code', required: true, autocomplete: 'one-time-code', spellcheck: 'false', maxlength: 64,
			inputmode: recovery ? 'text' : 'numeric', pattern: recovery ? null : '[0-9 ]{6,7}'},
		{hint: recovery ? 'The 6-digit code your authenticator app shows now, or one of the recovery codes you saved (each works once).'
			: 'The 6-digit code your authenticator app shows now.'});
}

// qrCanvas(text): text as a QR code on a canvas (4 px modules, a 4-module quiet zone).
function qrCanvas(text) {
	const q = qrcode(0, 'M');
	q.addData(text);
	q.make();
	const n = q.getModuleCount();
	const cell = 4;
	const size = (n + 8) * cell;
	const c = h('canvas', {width: size, height: size, class: 'qr', role: 'img',
		'aria-label': 'QR code of the setup key, for your authenticator app'});
	const g = c.getContext('2d');
	g.fillStyle = '#fff';
	g.fillRect(0, 0, size, size);
	g.fillStyle = '#000';
	for (let r = 0; r < n; r++) {
		for (let col = 0; col < n; col++) if (q.isDark(r, col)) g.fillRect((col + 4) * cell, (r + 4) * cell, cell, cell);
	}
	return c;
}

// The secret in groups of four, easier to type into an app by hand.
const grouped = (s) => s.replace(/(.{4})(?=.)/g, '$1 ');

// recoveryBox(codes, done): the ten codes, once, with Copy and Done.
function recoveryBox(codes, done) {
	const status = h('span', {role: 'status', class: 'copied'});
	const copy = h('button', {type: 'button'}, 'Copy recovery codes');
	const listEl = h('ol', {class: 'codes', id: 'recovery-codes'}, codes.map((c) => h('li', {}, h('code', {}, c))));
	copy.addEventListener('click', async () => {
		try {
			await navigator.clipboard.writeText(codes.join('\n') + '\n');
			swap(status, 'Copied.');
		} catch (err) {
			getSelection().selectAllChildren(listEl);
			swap(status, 'Press Ctrl+C (⌘C) to copy the selected codes.');
		}
	});
	const ok = h('button', {type: 'button', class: 'secondary'}, 'I saved them');
	ok.addEventListener('click', done);
	return h('section', {class: 'card', 'aria-labelledby': 'rc-h'},
		h('h2', {id: 'rc-h'}, 'Save your recovery codes'),
		h('p', {}, h('strong', {}, 'This is the only time they are shown. '),
			'If you lose your phone, sign in with one of them instead of a code. Each works once; only their hashes are stored.'),
		listEl, h('div', {class: 'actions'}, copy, ok), status);
}

// enrolCard(slot, rerender): the steps of turning two-factor on.
function enrolCard(slot, rerender) {
	const start = h('button', {type: 'button'}, 'Set up two-factor authentication');
	const card = h('section', {class: 'card', 'aria-labelledby': 'tf-h'},
		h('h2', {id: 'tf-h'}, 'Two-factor authentication is off'),
		h('p', {}, 'With it on, signing in also asks for a code from an authenticator app on your phone (any app for TOTP codes), so a stolen password alone is not enough.'),
		errorBox(), h('div', {class: 'actions'}, start));
	start.addEventListener('click', () => busy(card, async () => {
		const e = await post('/me/totp');
		const code = codeField(false);
		const form = h('form', {class: 'card', 'aria-labelledby': 'scan-h'},
			h('h2', {id: 'scan-h'}, 'Scan this code with your authenticator app'),
			h('div', {class: 'qrbox'}, qrCanvas(e.otpauth_uri)),
			h('p', {}, 'Cannot scan it? Enter this setup key in the app instead (time-based, 6 digits, 30 seconds):'),
			h('p', {}, h('code', {class: 'secret', id: 'totp-secret', 'data-secret': e.secret}, grouped(e.secret))),
			errorBox(), code,
			h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Turn on two-factor authentication')));
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			busy(form, async () => {
				const r = await post('/me/totp/confirm', {code: ctlOf(code).value.trim()});
				await loadMe();
				swap(slot, recoveryBox(r.recovery_codes, rerender));
				announce('Two-factor authentication is on.');
				slot.querySelector('h2').focus();
			});
		});
		swap(slot, form);
		ctlOf(code).focus();
	}));
	return card;
}

// disableCard(rerender): turning two-factor off, with a code.
function disableCard(rerender) {
	const code = codeField(true);
	const form = h('form', {class: 'card', 'aria-labelledby': 'tf-h'},
		h('h2', {id: 'tf-h'}, 'Two-factor authentication is on'),
		h('p', {}, 'Signing in asks for a code from your authenticator app, or one of your recovery codes.'),
		h('h3', {}, 'Turn it off'),
		h('p', {}, 'Then your password alone signs you in. Organizations that require two-factor authentication will refuse you until you turn it on again.'),
		errorBox(), code,
		h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'danger'}, 'Turn off two-factor authentication')));
	form.addEventListener('submit', (ev) => {
		ev.preventDefault();
		busy(form, async () => {
			await api('DELETE', '/me/totp', {code: ctlOf(code).value.trim()});
			await loadMe();
			announce('Two-factor authentication is off.');
			await rerender();
		});
	});
	return form;
}

export async function securityPage(m) {
	const slot = h('div', {});
	const rerender = () => {
		swap(slot, state.me.user.totp_enabled ? disableCard(rerender) : enrolCard(slot, rerender));
	};
	rerender();
	put(m, h('p', {class: 'lead'}, say`Your account: ${state.me.user.email}.`), slot);
}

// totpStep(m, loginToken, done, lead): the sign-in's second step in m; done()
// once signed in.  A wrong code may be tried again; after 5 minutes or 5
// wrong codes the sign-in starts over.  lead: what comes first (the
// password reset's "Your new password is set."), or nothing.
export function totpStep(m, loginToken, done, lead) {
	const code = codeField(true);
	const again = h('a', {href: '/#/signin', onclick: (e) => {
		if (location.pathname !== '/') return; // from /reset/{token}: the link loads the sign-in page
		e.preventDefault();
		window.dispatchEvent(new Event('finicom:route'));
	}}, 'Start over');
	const form = h('form', {class: 'card narrow', 'aria-label': 'Two-factor authentication'},
		h('h2', {}, 'Enter your code'),
		h('p', {}, lead ? `${lead} ` : '', 'Your account has two-factor authentication on. Open your authenticator app for the code.'),
		errorBox(), code, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Verify and sign in')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			try {
				await post('/auth/login/totp', {login_token: loginToken, code: ctlOf(code).value.trim()});
			} catch (err) {
				if (err instanceof ApiError && err.code === 'invalid_credentials') {
					throw new Error('That code is not right, or this sign-in has expired (it lasts 5 minutes and 5 tries). Try the code the app shows now, or start over.');
				}
				throw err;
			}
			await done();
		});
	});
	swap(m, m.querySelector('h1'), form,
		h('p', {}, 'Took too long, or too many tries? ', again, '.'),
		h('p', {}, 'Lost your phone and your recovery codes? The operator of this Finicom server can turn two-factor authentication off for your account.'));
	ctlOf(code).focus();
}

// require2faCard(ctx): the org's require_2fa switch (org settings, admins).
export function require2faCard(ctx) {
	const box = field('Require two-factor authentication of every member', {type: 'checkbox', name: 'require_2fa',
		checked: !!ctx.org.require_2fa});
	const form = h('form', {class: 'card', 'aria-labelledby': 'r2fa-h'},
		h('h2', {id: 'r2fa-h'}, 'Two-factor authentication'),
		h('p', {}, say`While this is on, members of ${ctx.org.name} without two-factor authentication cannot open anything of it until they turn it on. API keys are not affected. `,
			'Your own account needs it first: ', h('a', {href: '/' + SECURITY_HASH}, 'set up two-factor authentication'), '.'),
		errorBox(), noticeBox(), box,
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Save')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		clearNotice(form);
		busy(form, async () => {
			const on = ctlOf(box).checked;
			try {
				ctx.org = await patch(orgPath(ctx.org.id), {require_2fa: on});
			} catch (err) {
				if (err instanceof ApiError && err.code === 'two_factor_required') {
					ctlOf(box).checked = false;
					throw new Error('Turn on two-factor authentication for your own account first (the link above): otherwise this would lock you out.');
				}
				throw err;
			}
			showNotice(form, on ? 'Two-factor authentication is now required.' : 'Two-factor authentication is no longer required.');
		});
	});
	return form;
}
