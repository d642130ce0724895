// app.js: the Finicom dashboard's entry point: the router and the shell.
//
// Routes are hashes (#/signin, #/signup, #/forgot, #/account, #/orgs,
// #/o/{org}/{page}) and a few paths that mail links open (PATH_ROUTES:
// /invite/{token}, /verify/{token}, /reset/{token}),
// which nginx answers with this same page.  The shell is the header (org
// switcher, user, sign out), the org menu drawn from the caller's role, and
// the banners (BANNERS: "verify your email address"); each page module
// renders into a detached box that replaces <main>'s content when it is
// ready.
//
// Navigation: while the next page loads, <main> is aria-busy and the page
// on screen is inert (nothing on it can be clicked) and dimmed, under a
// "Loading …" line.  After an in-app navigation the focus goes to the new
// page's <h1> (or its data-autofocus element); after a direct load it stays
// where the browser put it, except on an autofocus field.
//
// To add a page: a module function render(box, ctx) and a line in
// ORG_PAGES and core.js PAGES (org pages), or in PATH_ROUTES (mail links).
// To add a banner: a function in BANNERS.

import {post, get, orgPath, clearCsrf, session, humanError} from './js/api.js';
import {h, put, swap, field, ctlOf, errorBox, busy, table, timeEl, say} from './js/dom.js';
import {state, loadMe, go, PAGES, orgHash, lastOrg, isAdmin, roleLabel} from './js/core.js';
import {membersPage} from './js/members.js';
import {accessReviewsPage} from './js/reviews.js';
import {objectsPage, connectionsPage} from './js/objects.js';
import {apiKeysPage, settingsPage} from './js/admin.js';
import {auditPage} from './js/audit.js';
import {alertsPage} from './js/alerts.js';
import {invitePage} from './js/invite.js';
import {verifyPage, verifyBanner} from './js/verify.js';
import {accountPage} from './js/account.js';
import {forgotPage, resetPage} from './js/reset.js';
import {ACCOUNT_SECTIONS} from './js/account.js';
import {securityPage, totpStep, SECURITY_HASH} from './js/security.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const orgbar = document.getElementById('orgbar');
const userbar = document.getElementById('userbar');
const banners = document.getElementById('banners');

const ORG_PAGES = {
	members: membersPage,
	sources: objectsPage('sources'),
	integrations: objectsPage('integrations'),
	destinations: objectsPage('destinations'),
	connections: connectionsPage,
	'api-keys': apiKeysPage,
	settings: settingsPage,
	audit: auditPage,
	alerts: alertsPage,
	review: accessReviewsPage,
};

// Old links: the page that took their place.
const MOVED = {invitations: 'members'};

// PATH_ROUTES: pages reached by a path (links in mail); render(box, rest, reload).
const PATH_ROUTES = [
	{prefix: '/invite/', title: 'Invitation', render: (m, token) => invitePage(m, token, reload)},
	{prefix: '/verify/', title: 'Verifying your email address', render: (m, token) => verifyPage(m, token)},
	{prefix: '/reset/', title: 'Choose a new password', render: (m, token) => resetPage(m, token)},
];

// HASH_ROUTES: signed-in pages of one's own account, outside any org.
const HASH_ROUTES = [
	{hash: SECURITY_HASH, title: 'Two-factor authentication', render: securityPage},
];

// The Account page's two-factor section: its state and the way to its page.
ACCOUNT_SECTIONS.push({id: 'two-factor', title: 'Two-factor authentication', render: (box, ctx) => put(box,
	h('p', {}, ctx.me.user.totp_enabled
		? 'On: signing in asks for a code from your authenticator app.'
		: 'Off: signing in asks for your password only.'),
	h('a', {href: '/' + SECURITY_HASH}, ctx.me.user.totp_enabled
		? 'Manage two-factor authentication' : 'Set up two-factor authentication'))});

// BANNERS: functions of state.me returning a node (a banner above the page)
// or null; redrawn after every page render.
const BANNERS = [verifyBanner];

let renderSeq = 0;
let firstRender = true;

// route(): draws the page for the current location.
async function route() {
	const seq = ++renderSeq;
	const path = location.pathname;
	const hash = location.hash || '#/';
	loading();
	try {
		if (state.me === undefined) await loadMe();
		if (seq !== renderSeq) return;
		const pr = PATH_ROUTES.find((r) => path.startsWith(r.prefix));
		if (pr) {
			drawShell(null);
			const rest = decodeURIComponent(path.slice(pr.prefix.length).split('/')[0]);
			return await page(pr.title, (m) => pr.render(m, rest));
		}
		if (path !== '/') {
			history.replaceState(null, '', '/' + hash);
			lastHref = location.href;
		}
		if (hash === '#/signup') return state.me ? go('#/') : (drawShell(null), await page('Create your account', signupPage));
		if (hash === '#/forgot') return drawShell(null), await page('Reset your password', forgotPage);
		if (hash === '#/signin' || !state.me) {
			if (!state.me && hash !== '#/signin' && hash !== '#/') state.after = hash;
			if (state.me) return go('#/');
			drawShell(null);
			if (hash !== '#/signin') history.replaceState(null, '', '/#/signin');
			lastHref = location.href;
			return await page('Sign in', signinPage);
		}
		const hr = HASH_ROUTES.find((r) => r.hash === hash);
		if (hr) {
			drawShell(null);
			return await page(hr.title, hr.render);
		}
		const m = /^#\/o\/([0-9a-fA-F-]{36})\/([a-z-]+)$/.exec(hash);
		if (m && MOVED[m[2]]) {
			history.replaceState(null, '', '/' + orgHash(m[1], MOVED[m[2]]));
			lastHref = location.href;
			return await orgPage(m[1], MOVED[m[2]]);
		}
		if (m) return await orgPage(m[1], m[2]);
		if (hash === '#/account') {
			drawShell(null);
			return await page('Your account', (m) => accountPage(m, {reload, redrawShell: () => drawShell(null)}));
		}
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
		markCurrent(null);
		await page('Something went wrong', (box) => put(box,
			h('p', {class: 'error', role: 'alert'}, 'This page could not be loaded. ', humanError(err)),
			h('p', {}, h('a', {href: '/#/'}, 'Back to the dashboard'))));
	}
}

// loading(): the page on screen cannot be used while the next one loads.
function loading() {
	main.setAttribute('aria-busy', 'true');
	const old = main.querySelector(':scope > .page');
	if (old) {
		old.inert = true;
		old.classList.add('stale');
	}
	if (!main.querySelector(':scope > .loading')) swap(main, h('p', {class: 'loading', role: 'status'}, 'Loading…'), old);
}

// page(title, fn): fn(box) fills a detached box that starts with the <h1>;
// it replaces <main>'s content only if no newer navigation started meanwhile.
async function page(title, fn) {
	const seq = renderSeq;
	const h1 = h('h1', {tabindex: '-1'}, title);
	const box = h('div', {class: 'page'}, h1);
	await fn(box);
	if (seq !== renderSeq) return;
	document.title = `${h1.textContent} · Finicom`;
	swap(main, box);
	main.removeAttribute('aria-busy');
	drawBanners();
	const auto = box.querySelector('[data-autofocus]');
	if (auto) auto.focus({preventScroll: true});
	else if (!firstRender) h1.focus({preventScroll: true});
	firstRender = false;
}

// reload(): fetch /me again and draw the current route.
async function reload() {
	await loadMe();
	await route();
}

function drawBanners() {
	swap(banners, BANNERS.map((b) => b(state.me)));
}

// drawShell(ctx): header and menu; ctx = {org, role, pageId} or null.
function drawShell(ctx) {
	const me = state.me;
	userbar.hidden = !me;
	orgbar.hidden = !me;
	nav.hidden = !ctx;
	if (!me) {
		swap(userbar);
		swap(orgbar);
		swap(nav);
		return;
	}
	swap(userbar,
		h('a', {href: '/#/account', class: 'who', title: `Your account (${me.user.email})`}, me.user.name),
		h('a', {href: '/' + SECURITY_HASH, class: 'small'}, 'Two-factor authentication'),
		h('button', {type: 'button', class: 'secondary small', onclick: signOut}, 'Sign out'));
	const mem = me.memberships || [];
	const sel = h('select', {id: 'org-switch'},
		ctx ? null : h('option', {value: ''}, 'Choose an organization'),
		mem.map((x) => h('option', {value: x.org.id, selected: ctx && ctx.org.id === x.org.id}, x.org.name)));
	sel.addEventListener('change', () => sel.value && go(orgHash(sel.value, ctx ? samePage(ctx.pageId) : 'members')));
	swap(orgbar,
		mem.length ? [h('label', {for: 'org-switch', class: 'sr-only'}, 'Organization'), sel] : null,
		h('a', {href: '/#/orgs', class: 'newlink'}, '+ New organization'));
	if (!ctx) return;
	const items = PAGES.filter((p) => !p.admin || isAdmin(ctx.role));
	const current = items.find((p) => p.id === ctx.pageId);
	const toggle = h('button', {type: 'button', class: 'menu-toggle secondary', 'aria-expanded': 'false', 'aria-controls': 'nav-list'},
		h('span', {'aria-hidden': 'true', class: 'burger'}, '☰'),
		h('span', {}, 'Menu'), h('span', {'aria-hidden': 'true'}, '·'), h('span', {class: 'menu-current'}, current ? current.label : ''),
		h('span', {class: 'menu-count'}, say`${items.length} pages`, h('span', {'aria-hidden': 'true', class: 'chev'}, ' ▾')));
	const ul = h('ul', {id: 'nav-list'}, items.map((p) => h('li', {},
		h('a', {href: '/' + orgHash(ctx.org.id, p.id), 'data-page': p.id, 'aria-current': p.id === ctx.pageId ? 'page' : false}, p.label))));
	toggle.addEventListener('click', () => {
		const open = toggle.getAttribute('aria-expanded') !== 'true';
		toggle.setAttribute('aria-expanded', String(open));
		nav.classList.toggle('open', open);
		if (open) ul.querySelector('a').focus();
	});
	nav.classList.remove('open');
	swap(nav, toggle, ul);
}

// markCurrent(pageId): the menu item of the page being opened (none: null).
function markCurrent(pageId) {
	for (const a of nav.querySelectorAll('a[data-page]')) {
		if (a.dataset.page === pageId) a.setAttribute('aria-current', 'page');
		else a.removeAttribute('aria-current');
	}
	const cur = nav.querySelector('.menu-current');
	if (cur) swap(cur, pageId ? (PAGES.find((p) => p.id === pageId) || {}).label : '');
	nav.classList.remove('open');
	const t = nav.querySelector('.menu-toggle');
	if (t) t.setAttribute('aria-expanded', 'false');
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
	session.mark(false);
	clearCsrf();
	go('#/signin');
}

// notFoundPage(title, text): a page that says what is not there, with no
// menu item marked.
function notFoundPage(title, ...text) {
	markCurrent(null);
	return page(title, (m) => put(m, h('p', {}, text), h('p', {}, h('a', {href: '/#/'}, 'Back to the dashboard'))));
}

// orgPage(orgId, pageId): the org's role decides the menu and the controls.
async function orgPage(orgId, pageId) {
	const render = ORG_PAGES[pageId];
	const meta = PAGES.find((p) => p.id === pageId);
	if (meta) markCurrent(pageId);
	let org;
	try {
		org = await get(orgPath(orgId));
	} catch (err) {
		if (err.status === 401) {
			state.me = null;
			state.after = location.hash;
			return go('#/signin');
		}
		if (err.code === 'two_factor_required') {
			drawShell(null);
			return notFoundPage('Two-factor authentication required', 'This organization requires two-factor authentication of its members. ',
				h('a', {href: '/' + SECURITY_HASH}, 'Turn it on for your account'), ', then come back.');
		}
		if (err.status !== 404) throw err;
		await loadMe();
		drawShell(null);
		return notFoundPage('Organization not found', 'This organization does not exist or you are not a member of it (any more). ',
			h('a', {href: '/#/orgs'}, 'Your organizations'), '.');
	}
	lastOrg.set(orgId);
	const ctx = {org, role: org.role, pageId, rerender: () => route(), reload};
	if (!(state.me.memberships || []).some((x) => x.org.id === orgId && x.role === org.role)) await loadMe();
	drawShell(ctx);
	if (!render || !meta) return notFoundPage('Page not found', 'There is no such page in this organization.');
	if (meta.admin && !isAdmin(org.role)) {
		return page(meta.label, (m) => put(m, h('p', {class: 'notice', role: 'status'},
			say`Only admins of ${org.name} can open this page. Your role is ${roleLabel(org.role).toLowerCase()}.`)));
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
			put(m, h('p', {class: 'error', role: 'alert'}, 'This page could not be loaded. ', humanError(err)));
		}
	});
}

// ---------------------------------------------------------------- pages

function signinPage(m) {
	const email = field('Email', {type: 'email', name: 'email', required: true, autocomplete: 'username'});
	const pw = field('Password', {type: 'password', name: 'password', required: true, autocomplete: 'current-password'});
	const form = h('form', {class: 'card narrow', 'aria-label': 'Sign in'}, errorBox(), email, pw,
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Sign in')),
		h('p', {}, h('a', {href: '/#/forgot'}, 'Forgot password?')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			const r = await post('/auth/login', {email: ctlOf(email).value.trim(), password: ctlOf(pw).value});
			const signedIn = async () => {
				await loadMe();
				const next = state.after;
				state.after = null;
				go(next || '#/');
			};
			// Two-factor on: the second step (security.js) before any session.
			if (r && r.totp_required) return totpStep(m, r.login_token, signedIn);
			await signedIn();
		});
	});
	put(m, form, h('p', {}, 'New to Finicom? ', h('a', {href: '/#/signup'}, 'Create an account')));
	ctlOf(email).dataset.autofocus = '1';
}

function signupPage(m) {
	const name = field('Your name', {name: 'name', required: true, maxlength: 200, autocomplete: 'name'});
	const email = field('Email', {type: 'email', name: 'email', required: true, autocomplete: 'email'});
	const pw = field('Password', {type: 'password', name: 'password', required: true, minlength: 8, autocomplete: 'new-password'},
		{hint: 'At least 8 characters, and not your email or name.'});
	const form = h('form', {class: 'card narrow', 'aria-label': 'Create your account'}, errorBox(), name, email, pw,
		h('div', {class: 'actions'}, h('button', {type: 'submit'}, 'Create account')));
	form.addEventListener('submit', (e) => {
		e.preventDefault();
		busy(form, async () => {
			await post('/auth/signup', {name: ctlOf(name).value.trim(), email: ctlOf(email).value.trim(), password: ctlOf(pw).value});
			await loadMe();
			go('#/orgs');
		});
	});
	put(m, form, h('p', {}, 'Already have an account? ', h('a', {href: '/#/signin'}, 'Sign in')));
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
	put(m,
		mem.length ? h('section', {'aria-labelledby': 'orgs-h'}, h('h2', {id: 'orgs-h'}, 'Your organizations'),
			table('Your organizations', [
				{label: 'Name', cell: (x) => h('a', {href: '/' + orgHash(x.org.id)}, x.org.name)},
				{label: 'Your role', cell: (x) => roleLabel(x.role)},
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
