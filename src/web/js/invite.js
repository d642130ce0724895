// invite.js: the /invite/{token} page, reached from the invitation email.
//
// It previews the invitation (no sign-in needed), then either accepts it
// with the current session (same email), or creates the account with a name
// and password, or lets an existing user sign in first.  Expired, canceled,
// accepted (410), unknown (404), mismatched (403) and taken (409) each get a
// plain message.

import {get, post, clearCsrf, session, humanError} from './api.js';
import {h, put, swap, say, field, ctlOf, errorBox, busy, relTime, fmtTime, badge} from './dom.js';
import {state, loadMe, go, orgHash, roleLabel} from './core.js';

const GONE = {
	expired: ['This invitation has expired', 'Invitation links work for a limited time. Ask an admin of the organization to send you a new one.'],
	canceled: ['This invitation was canceled', 'An admin of the organization canceled it. If you still need access, ask them to invite you again.'],
	accepted: ['This invitation was already accepted', 'Sign in to open the organization.'],
};

// goneMessage(err): [title, text] for a 410 reply.
function goneMessage(err) {
	const st = err.body.status || (err.body.error && err.body.error.status) || 'expired';
	return GONE[st] || GONE.expired;
}

function stop(main, title, text, withSignin) {
	swap(main.querySelector('h1'), title);
	put(main, h('p', {class: 'notice', role: 'alert', 'data-status': 'stop'}, text),
		h('p', {}, withSignin || !state.me ? h('a', {href: '/#/signin', class: 'button'}, 'Sign in')
			: h('a', {href: '/#/', class: 'button'}, 'Open the dashboard')));
}

export async function invitePage(main, token, reload) {
	let inv;
	try {
		inv = await get(`/invitations/${encodeURIComponent(token)}`);
	} catch (err) {
		if (err.status === 410) {
			const [t, x] = goneMessage(err);
			return stop(main, t, x, err.body.status === 'accepted');
		}
		if (err.status === 404) {
			return stop(main, 'This invitation link is not valid',
				'Check that you opened the whole link from the email. If an admin sent the invitation again, only the newest link works.');
		}
		return stop(main, 'Could not open this invitation', humanError(err));
	}
	swap(main.querySelector('h1'), say`Join ${inv.org.name}`);
	put(main, h('section', {class: 'card invite', 'aria-label': 'Invitation'},
		h('p', {class: 'lead'}, inv.invited_by && inv.invited_by.name ? say`${inv.invited_by.name} invited you to join ` : 'You are invited to join ',
			h('strong', {}, inv.org.name), ' with the role ', badge(roleLabel(inv.role), inv.role), '.'),
		h('dl', {class: 'facts'},
			h('dt', {}, 'For'), h('dd', {}, inv.email),
			h('dt', {}, 'Expires'), h('dd', {}, h('time', {datetime: inv.expires_at, title: fmtTime(inv.expires_at)}, relTime(inv.expires_at))))));

	const slot = h('div');
	put(main, slot);
	const done = async (res) => {
		await loadMe();
		go(orgHash(res.org.id));
	};
	const onAcceptError = (form, err) => {
		if (err.status === 410) {
			const [t, x] = goneMessage(err);
			swap(slot);
			return stop(main, t, x);
		}
		if (err.code === 'already_member') {
			swap(slot, h('p', {class: 'notice', role: 'status'}, say`You are already a member of ${inv.org.name}. `,
				h('a', {href: '/#/'}, 'Open the dashboard')));
			return;
		}
		throw err;
	};

	if (state.me && state.me.user.email.toLowerCase() === inv.email.toLowerCase()) {
		const form = h('form', {class: 'card narrow'}, errorBox(),
			h('p', {}, say`You are signed in as ${state.me.user.email}.`),
			h('div', {class: 'actions'}, h('button', {type: 'submit'}, say`Accept and join ${inv.org.name}`)));
		form.addEventListener('submit', (e) => {
			e.preventDefault();
			busy(form, async () => {
				try {
					await done(await post(`/invitations/${encodeURIComponent(token)}/accept`, {}));
				} catch (err) {
					onAcceptError(form, err);
				}
			});
		});
		put(slot, form);
		form.querySelector('button').dataset.autofocus = '1';
		return;
	}
	if (state.me) {
		const out = h('button', {type: 'button'}, say`Sign out and continue as ${inv.email}`);
		out.addEventListener('click', async () => {
			try {
				await post('/auth/logout');
			} catch (err) {
				/* already signed out */
			}
			state.me = null;
			session.mark(false);
			clearCsrf();
			await reload();
		});
		put(slot, h('div', {class: 'card narrow'},
			h('p', {class: 'error', role: 'alert', 'data-code': 'email_mismatch'},
				say`You are signed in as ${state.me.user.email}, but this invitation is for ${inv.email}. Sign in with that address to accept it.`),
			h('div', {class: 'actions'}, out)));
		return;
	}

	// Not signed in: create the account, or sign in to an existing one.
	const emailShown = field('Email', {type: 'email', name: 'email', value: inv.email, readonly: true, autocomplete: 'username'});
	const name = field('Your name', {name: 'name', required: true, maxlength: 200, autocomplete: 'name'});
	const pw = field('Choose a password', {type: 'password', name: 'password', required: true, minlength: 8, autocomplete: 'new-password'},
		{hint: 'At least 8 characters.'});
	const create = h('form', {class: 'card narrow', 'aria-labelledby': 'acc-h'},
		h('h2', {id: 'acc-h'}, 'Create your account'), errorBox(), emailShown, name, pw,
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Create account and join')));
	const signinLink = h('button', {type: 'button', class: 'linklike'}, 'Sign in to accept');
	const signinSlot = h('div');
	create.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(create, async () => {
			try {
				await done(await post(`/invitations/${encodeURIComponent(token)}/accept`, {name: ctlOf(name).value.trim(), password: ctlOf(pw).value}));
			} catch (err) {
				if (err.code === 'email_taken') {
					showSignin(say`An account with ${inv.email} already exists. Sign in with it to accept the invitation.`);
					return;
				}
				onAcceptError(create, err);
			}
		});
	});
	const showSignin = (why) => {
		const email = field('Email', {type: 'email', name: 'email', value: inv.email, required: true, autocomplete: 'username'});
		const spw = field('Password', {type: 'password', name: 'password', required: true, autocomplete: 'current-password'});
		const form = h('form', {class: 'card narrow', 'aria-labelledby': 'si-h'},
			h('h2', {id: 'si-h'}, 'Sign in to accept'), why ? h('p', {class: 'notice', role: 'status'}, why) : null,
			errorBox(), email, spw, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Sign in')));
		form.addEventListener('submit', (e) => {
			e.preventDefault();
			busy(form, async () => {
				await post('/auth/login', {email: ctlOf(email).value.trim(), password: ctlOf(spw).value});
				await reload();
			});
		});
		create.remove();
		swap(signinSlot, form);
		ctlOf(spw).focus();
	};
	signinLink.addEventListener('click', () => showSignin());
	put(slot, create, signinSlot, h('p', {}, 'Already have an account? ', signinLink));
	ctlOf(name).dataset.autofocus = '1';
}
