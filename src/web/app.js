// app.js: the Finicom dashboard's entry point: the router and the shell.
//
// Routes are hashes (#/signin, #/signup, #/orgs, #/o/{org}/{page}); the
// path routes are /invite/{token} and /verify/{token} (the links in mail),
// which nginx answers with this same page.
// The shell is the header (org switcher, user, sign out) and the org menu,
// drawn from the caller's role; each page module renders into <main>.

import {post, get, orgPath, clearCsrf} from './js/api.js';
import {h, field, ctlOf, errorBox, busy, table, timeEl} from './js/dom.js';
import {state, loadMe, go, PAGES, orgHash, lastOrg, isAdmin} from './js/core.js';
import {membersPage, invitationsPage, reviewPage} from './js/members.js';
import {objectsPage, connectionsPage} from './js/objects.js';
import {apiKeysPage, settingsPage, auditPage} from './js/admin.js';
import {invitePage} from './js/invite.js';
import {verifyPage, verifyBanner} from './js/verify.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const orgbar = document.getElementById('orgbar');
const userbar = document.getElementById('userbar');

const ORG_PAGES = {
	members: membersPage,
	invitations: invitationsPage,
	sources: objectsPage('sources'),
	integrations: objectsPage('integrations'),
	destinations: objectsPage('destinations'),
	connections: connectionsPage,
	'api-keys': apiKeysPage,
	settings: settingsPage,
	audit: auditPage,
	review: reviewPage,
};

let renderSeq = 0;

// route(): draws the page for the current location.
async function route() {
	const seq = ++renderSeq;
	const path = location.pathname;
	const hash = location.hash || '#/';
	try {
		if (state.me === undefined) await loadMe();
		if (seq !== renderSeq) return;
		if (path.startsWith('/invite/')) {
			drawShell(null);
			const token = decodeURIComponent(path.slice('/invite/'.length).split('/')[0]);
			return await page('Invitation', (m) => invitePage(m, token, reload));
		}
		if (path.startsWith('/verify/')) {
			drawShell(null);
			const token = decodeURIComponent(path.slice('/verify/'.length).split('/')[0]);
			return await page('Verifying your email address', (m) => verifyPage(m, token, () => drawShell(null)));
		}
		if (path !== '/') {
			history.replaceState(null, '', '/' + hash);
			lastHref = location.href;
		}
		if (hash === '#/signup') return state.me ? go('#/') : (drawShell(null), page('Create your account', signupPage));
		if (hash === '#/signin' || !state.me) {
			if (!state.me && hash !== '#/signin' && hash !== '#/') state.after = hash;
			if (state.me) return go('#/');
			drawShell(null);
			if (hash !== '#/signin') history.replaceState(null, '', '/#/signin');
			lastHref = location.href;
			return await page('Sign in', signinPage);
		}
		const m = /^#\/o\/([0-9a-fA-F-]{36})\/([a-z-]+)$/.exec(hash);
		if (m) return await orgPage(m[1], m[2]);
		if (hash === '#/orgs') {
			drawShell(null);
			return await page('Organizations', orgsPage);
		}
		// #/ and anything unknown: the last org used, or the org list.
		const mem = state.me.memberships || [];
		const pick = mem.find((x) => x.org.id === lastOrg.get()) || mem[0];
		return go(pick ? orgHash(pick.org.id) : '#/orgs');
	} catch (err) {
		if (seq !== renderSeq) return;
		main.replaceChildren(h('h1', {tabindex: '-1'}, 'Something went wrong'),
			h('p', {class: 'error', role: 'alert'}, err.message),
			h('p', {}, h('a', {href: '/#/'}, 'Back to the dashboard')));
	}
}

// page(title, fn): fn(box) fills a detached box that starts with the <h1>;
// it replaces <main>'s content only if no newer navigation started meanwhile.
// Then the element marked data-autofocus (else the <h1>) gets the focus.
async function page(title, fn) {
	const seq = renderSeq;
	const h1 = h('h1', {tabindex: '-1'}, title);
	const box = h('div', {class: 'page'}, h1);
	await fn(box);
	if (seq !== renderSeq) return;
	document.title = `${h1.textContent} · Finicom`;
	main.replaceChildren(box);
	const want = box.querySelector('[data-autofocus]') || h1;
	want.focus({preventScroll: true});
}

// reload(): fetch /me again and draw the current route.
async function reload() {
	await loadMe();
	await route();
}

// drawShell(ctx): header and menu; ctx = {org, role, pageId} or null.
function drawShell(ctx) {
	const me = state.me;
	const banner = verifyBanner();
	const old = document.getElementById('verify-banner');
	if (old) old.remove();
	if (banner) nav.before(banner);
	userbar.hidden = !me;
	orgbar.hidden = !me;
	nav.hidden = !ctx;
	if (!me) {
		userbar.replaceChildren();
		orgbar.replaceChildren();
		nav.replaceChildren();
		return;
	}
	userbar.replaceChildren(
		h('span', {class: 'who', title: me.user.email}, me.user.name),
		h('button', {type: 'button', class: 'secondary small', onclick: signOut}, 'Sign out'));
	const mem = me.memberships || [];
	const sel = h('select', {id: 'org-switch', 'aria-label': 'Organization'},
		ctx ? null : h('option', {value: ''}, 'Choose an organization'),
		mem.map((x) => h('option', {value: x.org.id, selected: ctx && ctx.org.id === x.org.id}, x.org.name)));
	sel.addEventListener('change', () => sel.value && go(orgHash(sel.value, ctx ? samePage(ctx.pageId) : 'members')));
	// (replaceChildren would draw a null as the text "null")
	orgbar.replaceChildren(...[
		mem.length ? h('label', {for: 'org-switch', class: 'sr-only'}, 'Organization') : null,
		mem.length ? sel : null,
		h('a', {href: '/#/orgs', class: 'newlink'}, '+ New organization')].filter(Boolean));
	if (!ctx) return;
	const items = PAGES.filter((p) => !p.admin || isAdmin(ctx.role));
	nav.replaceChildren(h('ul', {}, items.map((p) => h('li', {},
		h('a', {href: '/' + orgHash(ctx.org.id, p.id), 'aria-current': p.id === ctx.pageId ? 'page' : false}, p.label)))));
}

// On switching orgs stay on the same kind of page (members for admin pages).
const samePage = (id) => (PAGES.find((p) => p.id === id && !p.admin) ? id : 'members');

async function signOut() {
	try {
		await post('/auth/logout');
	} catch (err) {
		/* the session may already be gone; signing out locally is enough */
	}
	state.me = null;
	clearCsrf();
	go('#/signin');
}

// orgPage(orgId, pageId): the org's role decides the menu and the controls.
async function orgPage(orgId, pageId) {
	const render = ORG_PAGES[pageId];
	const meta = PAGES.find((p) => p.id === pageId);
	let org;
	try {
		org = await get(orgPath(orgId));
	} catch (err) {
		if (err.status === 401) {
			state.me = null;
			state.after = location.hash;
			return go('#/signin');
		}
		if (err.status !== 404) throw err;
		await loadMe();
		drawShell(null);
		return page('Organization not found', (m) => m.append(
			h('p', {}, 'This organization does not exist or you are not a member of it (any more).'),
			h('p', {}, h('a', {href: '/#/orgs'}, 'Your organizations'))));
	}
	lastOrg.set(orgId);
	const ctx = {org, role: org.role, pageId, rerender: () => route(), reload};
	if (!(state.me.memberships || []).some((x) => x.org.id === orgId && x.role === org.role)) await loadMe();
	drawShell(ctx);
	if (!render || !meta) return page('Page not found', (m) => m.append(h('p', {}, 'There is no such page.')));
	if (meta.admin && !isAdmin(org.role)) {
		return page(meta.label, (m) => m.append(h('p', {class: 'notice'},
			`Only admins of ${org.name} can open this page. Your role is ${org.role}.`)));
	}
	return page(meta.label, async (m) => {
		try {
			await render(m, ctx);
		} catch (err) {
			if (err.status === 401) {
				state.me = null;
				state.after = location.hash;
				return go('#/signin');
			}
			m.append(h('p', {class: 'error', role: 'alert'}, `Could not load this page: ${err.message}`));
		}
	});
}

// ---------------------------------------------------------------- pages

function signinPage(m) {
	const email = field('Email', {type: 'email', name: 'email', required: true, autocomplete: 'username'});
	const pw = field('Password', {type: 'password', name: 'password', required: true, autocomplete: 'current-password'});
	const form = h('form', {class: 'card narrow', novalidate: false}, errorBox(), email, pw,
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Sign in')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			await post('/auth/login', {email: ctlOf(email).value.trim(), password: ctlOf(pw).value});
			await loadMe();
			const next = state.after;
			state.after = null;
			go(next || '#/');
		});
	});
	m.append(form, h('p', {class: 'center'}, 'New to Finicom? ', h('a', {href: '/#/signup'}, 'Create an account')));
	ctlOf(email).dataset.autofocus = '1';
}

function signupPage(m) {
	const name = field('Your name', {name: 'name', required: true, maxlength: 200, autocomplete: 'name'});
	const email = field('Email', {type: 'email', name: 'email', required: true, autocomplete: 'email'});
	const pw = field('Password', {type: 'password', name: 'password', required: true, minlength: 8, autocomplete: 'new-password'},
		{hint: 'At least 8 characters.'});
	const form = h('form', {class: 'card narrow'}, errorBox(), name, email, pw,
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Create account')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			await post('/auth/signup', {name: ctlOf(name).value.trim(), email: ctlOf(email).value.trim(), password: ctlOf(pw).value});
			await loadMe();
			go('#/orgs');
		});
	});
	m.append(form, h('p', {class: 'center'}, 'Already have an account? ', h('a', {href: '/#/signin'}, 'Sign in')));
	ctlOf(name).dataset.autofocus = '1';
}

function orgsPage(m) {
	const mem = state.me.memberships || [];
	const name = field('Organization name', {name: 'name', required: true, maxlength: 200});
	const form = h('form', {class: 'card inline-form', 'aria-labelledby': 'neworg-h'},
		h('h2', {id: 'neworg-h'}, mem.length ? 'New organization' : 'Create your first organization'),
		errorBox(), name, h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Create organization')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			const org = await post('/orgs', {name: ctlOf(name).value.trim()});
			await loadMe();
			go(orgHash(org.id));
		});
	});
	m.append(
		mem.length ? h('section', {'aria-labelledby': 'orgs-h'}, h('h2', {id: 'orgs-h'}, 'Your organizations'),
			table('Your organizations', [
				{label: 'Name', cell: (x) => h('a', {href: '/' + orgHash(x.org.id)}, x.org.name)},
				{label: 'Your role', cell: (x) => x.role},
				{label: 'Joined', cell: (x) => timeEl(x.joined_at, false)},
			], mem)) : h('p', {}, 'You are not a member of any organization yet. Create one, or open the link of an invitation you received by email.'),
		form);
}

// Chromium fires both popstate and hashchange for one hash change: route
// once per new location; finicom:route (go() to the same place) always.
let lastHref = null;
const onNavigate = () => {
	if (location.href === lastHref) return;
	lastHref = location.href;
	route();
};
window.addEventListener('hashchange', onNavigate);
window.addEventListener('popstate', onNavigate);
window.addEventListener('finicom:route', () => {
	lastHref = location.href;
	route();
});
lastHref = location.href;
route();
