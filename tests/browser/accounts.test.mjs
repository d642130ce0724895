// accounts.test.mjs: the account pages in real Chromium (issue 14):
// "Forgot password?" on the sign-in page → the reset mail (read from the
// SMTP sink's Maildir) → the reset page → signed in with the new password;
// the Account page (name, password, sessions) at 1280 and 390 px with the
// harness's checks and axe in both colour schemes; and signing out another
// session from it, whose browser is signed out at its very next request.
//
// Accounts are made through the API (signup) with addresses of this run;
// screenshots go to screenshots-accounts/ (flows.test.mjs empties
// screenshots/ when it starts).

import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, statSync, mkdirSync, rmSync} from 'node:fs';
import {join, dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';
import {open as openWatched, shot as shotIn} from './lib/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.FINICOM_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const MAILDIR = process.env.FINICOM_MAILDIR || resolve(HERE, '../../var/mail');
const SHOTS = join(HERE, 'screenshots-accounts');
const CHROMIUM = process.env.FINICOM_CHROMIUM || process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const MAIL_WAIT = 30000;
const RUN = Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36);

let browser;

before(async () => {
	rmSync(SHOTS, {recursive: true, force: true});
	mkdirSync(SHOTS, {recursive: true});
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run'],
	});
});

after(async () => {
	if (browser) await browser.close();
});

const open = (opts) => openWatched(browser, BASE, opts);
const shot = (page, name) => shotIn(page, SHOTS, name);

async function heading(page, text) {
	await page.locator('main h1', {hasText: text}).waitFor();
	await page.locator('main:not([aria-busy])').waitFor();
}

// signup(who): an account made through the API; who gets its email and password.
async function signup(tag) {
	const who = {name: `Pat ${tag}`, email: `acc-${tag}-${RUN}@example.test`, password: `horse battery ${tag} ${RUN}`};
	const r = await fetch(`${BASE}/api/v1/auth/signup`, {method: 'POST', headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({email: who.email, name: who.name, password: who.password})});
	assert.equal(r.status, 201, await r.text());
	return who;
}

async function signIn(t, who, landing = 'Organizations') {
	const {page} = t;
	await page.goto(`${BASE}/#/signin`);
	await heading(page, 'Sign in');
	await page.getByLabel('Email', {exact: true}).fill(who.email);
	await page.getByLabel('Password', {exact: true}).fill(who.password);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await heading(page, landing);
	await t.check(`${who.name} signs in`);
}

// resetLinks(email, n): the links of the reset mails to email, oldest first,
// polled until there are n; each on the stack under test.
async function resetLinks(email, n = 1) {
	const dir = join(MAILDIR, 'new');
	const deadline = Date.now() + MAIL_WAIT;
	for (;;) {
		const found = [];
		for (const name of readdirSync(dir)) {
			const f = join(dir, name);
			const text = readFileSync(f, 'utf8');
			if (!text.toLowerCase().includes(email.toLowerCase())) continue;
			const m = /^\s*(\S*\/reset\/[A-Za-z0-9_-]+)\s*$/m.exec(text);
			if (m) found.push({at: statSync(f).mtimeMs, link: BASE + m[1].slice(m[1].indexOf('/reset/'))});
		}
		if (found.length >= n) return found.sort((a, b) => a.at - b.at).map((x) => x.link);
		if (Date.now() > deadline) throw new Error(`fewer than ${n} reset mails for ${email} in ${dir}`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

test('forgot password → the mail → the reset page → signed in with the new password', async () => {
	const who = await signup('forgot');
	const t = await open({width: 390});
	const {page} = t;
	await page.goto(`${BASE}/#/signin`);
	await heading(page, 'Sign in');
	await page.getByRole('link', {name: 'Forgot password?'}).click();
	await heading(page, 'Reset your password');
	await t.check('the forgot page');
	await t.axe('the forgot page');
	await page.getByLabel('Email', {exact: true}).fill(who.email);
	await page.getByRole('button', {name: 'Email me a link'}).click();
	await page.getByText(`If an account uses ${who.email}, a link to choose a new password is on its way`).waitFor();
	await t.check('the link was asked for');
	await shot(page, 'forgot-sent-390');

	const [link] = await resetLinks(who.email);
	await page.goto(link);
	await heading(page, 'Choose a new password');
	assert.equal(await page.getByLabel('Email', {exact: true}).inputValue(), who.email);
	await t.check('the reset page');
	await t.axe('the reset page');
	await shot(page, 'reset-page-390');
	// the rules of signup apply, in words
	await t.expecting('POST', /^\/api\/v1\/auth\/password-reset\/[^/]+$/, 400, async () => {
		await page.getByLabel('New password', {exact: true}).fill('password1');
		await page.getByRole('button', {name: 'Set password and sign in'}).click();
		await page.getByRole('alert').filter({hasText: 'common'}).waitFor();
	});
	await t.check('a common password is refused');
	const newPassword = `a new one ${RUN}`;
	await page.getByLabel('New password', {exact: true}).fill(newPassword);
	await page.getByRole('button', {name: 'Set password and sign in'}).click();
	await heading(page, 'Organizations');
	await page.getByRole('link', {name: who.name}).waitFor();
	await t.check('signed in after the reset');

	// the link works once
	await t.expecting('GET', /^\/api\/v1\/auth\/password-reset\/[^/]+$/, 410, async () => {
		await page.goto(link);
		await heading(page, 'This link was already used');
	});
	await t.check('a used link says so');

	// the new password signs in, the old one does not
	await t.close();
	const t2 = await open();
	await t2.expecting('POST', /^\/api\/v1\/auth\/login$/, 401, async () => {
		await t2.page.goto(`${BASE}/#/signin`);
		await heading(t2.page, 'Sign in');
		await t2.page.getByLabel('Email', {exact: true}).fill(who.email);
		await t2.page.getByLabel('Password', {exact: true}).fill(who.password);
		await t2.page.getByRole('button', {name: 'Sign in'}).click();
		await t2.page.getByRole('alert').filter({hasText: 'not right'}).waitFor();
	});
	await signIn(t2, {...who, password: newPassword});
	await t2.close();
});

test('an invalid reset link says so', async () => {
	const t = await open({width: 390});
	await t.expecting('GET', /^\/api\/v1\/auth\/password-reset\/[^/]+$/, 404, async () => {
		await t.page.goto(`${BASE}/reset/${'A'.repeat(43)}`);
		await heading(t.page, 'This password reset link is not valid');
	});
	await t.check('an invalid link');
	await t.axe('an invalid link');
	await t.close();
});

for (const width of [1280, 390]) {
	test(`the Account page at ${width} px: name, password, sessions`, async () => {
		const who = await signup(`page${width}`);
		const t = await open({width});
		const {page} = t;
		await signIn(t, who);
		await page.getByRole('link', {name: who.name}).click();
		await heading(page, 'Your account');
		await page.getByRole('table', {name: 'Your sessions'}).waitFor();
		await t.check('the Account page');
		await t.axe('the Account page');
		await shot(page, `account-${width}`);
		assert.ok(await page.locator('#account-sections').count() === 1, 'the place for more sections (two-factor authentication)');

		await page.getByLabel('Name', {exact: true}).fill(`Renamed ${width}`);
		await page.getByRole('button', {name: 'Save name'}).click();
		await page.getByText(`Your name is now Renamed ${width}.`).waitFor();
		await page.getByRole('link', {name: `Renamed ${width}`}).waitFor();
		await t.check('the name is saved and in the header');

		await t.expecting('POST', /^\/api\/v1\/me\/password$/, 400, async () => {
			await page.getByLabel('Current password', {exact: true}).fill('not my password at all');
			await page.getByLabel('New password', {exact: true}).fill(`changed ${RUN} ${width}`);
			await page.getByRole('button', {name: 'Change password'}).click();
			await page.getByRole('alert').filter({hasText: 'Current_password is incorrect'}).waitFor();
		});
		await t.check('a wrong current password is refused in words');
		assert.equal(await page.getByLabel('Current password', {exact: true}).getAttribute('aria-invalid'), 'true');
		await page.getByLabel('Current password', {exact: true}).fill(who.password);
		await page.getByLabel('New password', {exact: true}).fill(`changed ${RUN} ${width}`);
		await page.getByRole('button', {name: 'Change password'}).click();
		await page.getByText('Your password is changed. Every other session was signed out.').waitFor();
		await t.check('the password is changed');
		await t.axe('the Account page after the changes');
		await shot(page, `account-changed-${width}`);
		await t.close();
	});
}

test('signing out another session from the Account page signs that browser out', async () => {
	const who = await signup('twice');
	const a = await open();
	const b = await open({width: 390});
	await signIn(a, who);
	await signIn(b, who);
	await a.page.goto(`${BASE}/#/account`);
	await heading(a.page, 'Your account');
	const rows = a.page.locator('tr[data-session]');
	await rows.nth(1).waitFor();
	assert.equal(await rows.count(), 3, 'the signup session and the two browsers');
	assert.equal(await a.page.locator('tr[data-current="true"]').count(), 1);
	await a.check('two browsers signed in');
	// the newest is b's
	await rows.first().getByRole('button', {name: /^Sign out/}).click();
	const dlg = a.page.getByRole('dialog');
	await dlg.waitFor();
	await a.check('the sign-out dialog');
	await a.axe('the sign-out dialog');
	await shot(a.page, 'account-sign-out-other-1280');
	await dlg.getByRole('button', {name: 'Sign out'}).click();
	await a.page.getByText(/is signed out\.$/).waitFor();
	assert.equal(await rows.count(), 2);
	await a.check('the other session is ended');

	// b's very next request is refused: it is back at the sign-in page
	await b.expecting('GET', /^\/api\/v1\/me$/, 401, async () => {
		await b.page.reload();
		await heading(b.page, 'Sign in');
	});
	await b.check('the other browser is signed out');
	await shot(b.page, 'signed-out-elsewhere-390');

	// sign out everywhere else
	await signIn(b, who);
	await a.page.reload();
	await heading(a.page, 'Your account');
	await rows.nth(2).waitFor();
	await a.page.getByRole('button', {name: 'Sign out everywhere else'}).click();
	await a.page.getByRole('dialog').getByRole('button', {name: 'Sign out everywhere else'}).click();
	await a.page.getByText('Every other session is signed out.').waitFor();
	assert.equal(await rows.count(), 1);
	assert.ok(await a.page.getByRole('button', {name: 'Sign out everywhere else'}).isDisabled());
	await a.check('every other session is ended');
	await b.expecting('GET', /^\/api\/v1\/me$/, 401, async () => {
		await b.page.reload();
		await heading(b.page, 'Sign in');
	});

	// this browser's own session: back at the sign-in page
	await a.page.getByRole('button', {name: 'Sign out of this browser'}).click();
	await a.page.getByRole('dialog').getByRole('button', {name: 'Sign out'}).click();
	await heading(a.page, 'Sign in');
	await a.check('signed out of this browser');
	await a.close();
	await b.close();
});
