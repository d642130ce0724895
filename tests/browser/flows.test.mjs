// flows.test.mjs: the dashboard's user flows in real Chromium (issue 8).
//
// Runs with node's own test runner (node --test tests/browser/) against the
// nginx of a deploy/dev stack: FINICOM_URL (default http://127.0.0.1:8080)
// and FINICOM_MAILDIR (the SMTP sink's Maildir; the invitation links are
// read from the real mail in $FINICOM_MAILDIR/new).  Every test gets a fresh
// browser context; any console error, page error, failed request or
// response >= 500 fails it.  An expected 4xx of the API does not (Chromium
// logs those as "Failed to load resource" console errors; they are only
// recorded).  Screenshots of every page go to tests/browser/screenshots/.
//
// The tests of the describe block share one org and its people and run in
// order: the admin signs up and invites, the invitees accept from the mail,
// the read and write members look around, the admin manages and audits.

import {test, describe, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, statSync, mkdirSync} from 'node:fs';
import {join, dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.FINICOM_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const MAILDIR = process.env.FINICOM_MAILDIR || resolve(HERE, '../../var/mail');
const SHOTS = join(HERE, 'screenshots');
const CHROMIUM = process.env.FINICOM_CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 15000;
const MAIL_WAIT = 30000;

const RUN = Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36);
const PASSWORD = 'correct horse battery staple';
const S = {
	admin: {name: 'Ada Admin', email: `ada-${RUN}@example.test`},
	writer: {name: 'Wes Writer', email: `wes-${RUN}@example.test`},
	reader: {name: 'Rita Reader', email: `rita-${RUN}@example.test`},
	orgName: `Acme ${RUN}`,
	orgId: null,
};

let browser;

before(async () => {
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

// open(width): a fresh context and page that record every problem.
// Returns {page, ctx, close}; close() fails the test if a problem was seen.
async function open(width = 1280) {
	const ctx = await browser.newContext({viewport: {width, height: 900}});
	ctx.setDefaultTimeout(TIMEOUT);
	const page = await ctx.newPage();
	const problems = [];
	const expected4xx = /^Failed to load resource: the server responded with a status of 4\d\d/;
	page.on('console', (m) => {
		if (m.type() === 'error' && !expected4xx.test(m.text())) problems.push(`console error: ${m.text()}`);
	});
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
	page.on('response', (r) => {
		const path = new URL(r.url()).pathname;
		if (r.status() >= 500) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
		else if (r.status() >= 400 && !path.startsWith('/api/')) problems.push(`HTTP ${r.status()} for an asset: ${r.url()}`);
	});
	return {
		page, ctx,
		close: async () => {
			await ctx.close();
			assert.deepEqual(problems, [], 'no console errors, failed requests or 5xx responses');
		},
	};
}

const shot = (page, name) => page.screenshot({path: join(SHOTS, `${name}.png`), fullPage: true});

// heading(page, text): waits for the page's <h1> to read text.
const heading = (page, text) => page.locator('main h1', {hasText: text}).waitFor();

async function signIn(page, who) {
	await page.goto(`${BASE}/#/signin`);
	await heading(page, 'Sign in');
	await page.getByLabel('Email').fill(who.email);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await heading(page, 'Members');
}

async function gotoOrgPage(page, id, title) {
	await page.goto(`${BASE}/#/o/${S.orgId}/${id}`);
	await heading(page, title);
}

// inviteLink(email): the accept link of the newest mail to email in the
// sink's Maildir, polled until it shows up (MAIL_WAIT ms at most).
async function inviteLink(email, notBefore = 0) {
	const dir = join(MAILDIR, 'new');
	const deadline = Date.now() + MAIL_WAIT;
	const needle = email.toLowerCase();
	for (;;) {
		let best = null;
		let names = [];
		try {
			names = readdirSync(dir);
		} catch (err) {
			if (err.code !== 'ENOENT') throw err;
		}
		for (const n of names) {
			const f = join(dir, n);
			const st = statSync(f);
			if (st.mtimeMs < notBefore - 1000) continue;
			const text = readFileSync(f, 'utf8');
			if (!text.toLowerCase().includes(needle)) continue;
			const m = /^\s*(\S*\/invite\/[A-Za-z0-9_-]+)\s*$/m.exec(text);
			if (m && (!best || st.mtimeMs > best.at)) best = {at: st.mtimeMs, link: m[1]};
		}
		// Open the link on the stack under test, whatever public_url says.
		if (best) return BASE + best.link.slice(best.link.indexOf('/invite/'));
		if (Date.now() > deadline) throw new Error(`no invitation mail for ${email} in ${dir} after ${MAIL_WAIT / 1000} s (is finicom-mailer running?)`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

// verifyLinks(email, n): the links of the verification mails to email, oldest
// first, polled until there are at least n (MAIL_WAIT ms at most); each on
// the stack under test, whatever public_url says.
async function verifyLinks(email, n = 1) {
	const dir = join(MAILDIR, 'new');
	const deadline = Date.now() + MAIL_WAIT;
	const needle = email.toLowerCase();
	for (;;) {
		const found = [];
		let names = [];
		try {
			names = readdirSync(dir);
		} catch (err) {
			if (err.code !== 'ENOENT') throw err;
		}
		for (const name of names) {
			const f = join(dir, name);
			const text = readFileSync(f, 'utf8');
			if (!text.toLowerCase().includes(needle)) continue;
			const m = /^\s*(\S*\/verify\/[A-Za-z0-9_-]+)\s*$/m.exec(text);
			if (m) found.push({at: statSync(f).mtimeMs, link: BASE + m[1].slice(m[1].indexOf('/verify/'))});
		}
		if (found.length >= n) return found.sort((a, b) => a.at - b.at).map((x) => x.link);
		if (Date.now() > deadline) throw new Error(`fewer than ${n} verification mails for ${email} in ${dir} after ${MAIL_WAIT / 1000} s`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

const banner = (page) => page.getByRole('region', {name: 'Email verification'});

// apiFetch(page, method, path, body): a request from inside the page with
// the session cookie and CSRF token, as a forged click would send it.
const apiFetch = (page, method, path, body) => page.evaluate(async ([method, path, body]) => {
	const me = await (await fetch('/api/v1/me')).json();
	const r = await fetch('/api/v1' + path, {method, headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token},
		body: body === undefined ? undefined : JSON.stringify(body)});
	return {status: r.status, body: r.status === 204 ? null : await r.json()};
}, [method, path, body]);

const ADMIN_NAV = ['Invitations', 'API keys', 'Settings & billing', 'Audit log', 'Access review'];
const DATA_PAGES = [['sources', 'Sources', 'source'], ['integrations', 'Integrations', 'integration'],
	['destinations', 'Destinations', 'destination'], ['connections', 'Connections', 'connection']];

describe('team access flows', () => {
	test('an admin signs up, creates an org and invites a write and a read member', async () => {
		const {page, close} = await open();
		await page.goto(`${BASE}/`);
		await heading(page, 'Sign in');
		await shot(page, 'signin');
		await page.getByRole('link', {name: 'Create an account'}).click();
		await heading(page, 'Create your account');
		await page.getByLabel('Your name').fill(S.admin.name);
		await page.getByLabel('Email').fill(S.admin.email);
		await page.getByLabel('Password').fill(PASSWORD);
		await shot(page, 'signup');
		await page.getByRole('button', {name: 'Create account'}).click();
		await heading(page, 'Organizations');
		assert.doesNotMatch(await page.locator('#orgbar').innerText(), /null/, 'no stray "null" without orgs');
		// Until the address is verified a banner says so; the mailed link verifies it.
		assert.match(await banner(page).innerText(), new RegExp(`Please verify your email address[\\s\\S]*${S.admin.email}`));
		await shot(page, 'organizations-unverified');
		const [link] = await verifyLinks(S.admin.email);
		await page.goto(link);
		await heading(page, 'Your email address is verified');
		assert.equal(await banner(page).count(), 0, 'no banner once verified');
		await shot(page, 'verified');
		await page.getByRole('link', {name: 'Open the dashboard'}).click();
		await heading(page, 'Organizations');
		assert.equal(await banner(page).count(), 0);
		await shot(page, 'organizations');
		await page.getByLabel('Organization name').fill(S.orgName);
		await page.getByRole('button', {name: 'Create organization'}).click();
		await heading(page, 'Members');
		S.orgId = /#\/o\/([0-9a-f-]{36})\//.exec(page.url())[1];
		const me = page.locator(`tr[data-email="${S.admin.email}"]`);
		await me.waitFor();
		assert.equal(await me.getByRole('combobox').inputValue(), 'admin');
		assert.equal(await page.locator('#org-switch').inputValue(), S.orgId);

		await page.getByRole('navigation').getByRole('link', {name: 'Invitations'}).click();
		await heading(page, 'Invitations');
		for (const [who, role] of [[S.writer, 'write'], [S.reader, 'read']]) {
			who.invitedAt = Date.now();
			await page.getByLabel('Email', {exact: true}).fill(who.email);
			await page.getByLabel('Role', {exact: true}).selectOption(role);
			await page.getByRole('button', {name: 'Send invitation', exact: true}).click();
			const row = page.locator(`tr[data-email="${who.email}"]`);
			await row.waitFor();
			assert.match(await row.innerText(), new RegExp(`${role}[\\s\\S]*pending[\\s\\S]*in 7 days`));
			await page.getByText(`Invitation sent to ${who.email}`).waitFor();
		}
		await shot(page, 'invitations');
		await close();
	});

	for (const [key, role] of [['writer', 'write'], ['reader', 'read']]) {
		test(`the ${role} invitee opens the link from the mail and creates the account`, async () => {
			assert.ok(S.orgId, 'the org exists (first test)');
			const who = S[key];
			const link = await inviteLink(who.email, who.invitedAt);
			const {page, close} = await open();
			await page.goto(link);
			await heading(page, `Join ${S.orgName}`);
			const card = page.getByRole('region', {name: 'Invitation'});
			assert.match(await card.innerText(), new RegExp(`${S.admin.name} invited you to join ${S.orgName} with the role ${role}`));
			assert.match(await card.innerText(), new RegExp(who.email));
			assert.equal(await page.getByLabel('Email').inputValue(), who.email);
			await shot(page, `invite-${role}`);
			await page.getByLabel('Your name').fill(who.name);
			await page.getByLabel('Choose a password').fill(PASSWORD);
			await page.getByRole('button', {name: 'Create account and join'}).click();
			await heading(page, 'Members');
			assert.ok(page.url().includes(`#/o/${S.orgId}/members`), page.url());
			assert.match(await page.locator(`tr[data-email="${who.email}"]`).innerText(), new RegExp(role));
			// The link works once: opened again it says so.
			await page.goto(link);
			await heading(page, 'already accepted');
			await close();
		});
	}

	test('the read member sees no create, edit or delete controls and no admin pages', async () => {
		const {page, close} = await open();
		await signIn(page, S.reader);
		const nav = page.getByRole('navigation', {name: 'Organization'});
		for (const label of ADMIN_NAV) assert.equal(await nav.getByRole('link', {name: label}).count(), 0, `no ${label} link`);
		assert.equal(await page.locator('main select').count(), 0, 'no role selectors');
		assert.equal(await page.getByRole('button', {name: /^Remove/}).count(), 0, 'no remove buttons');
		assert.equal(await page.getByRole('link', {name: 'Invite member'}).count(), 0);
		await page.getByRole('button', {name: 'Leave organization'}).waitFor();
		await shot(page, 'members-read');
		for (const [id, title, one] of DATA_PAGES) {
			await gotoOrgPage(page, id, title);
			await page.getByText('Your role (read) can view them but not change them').waitFor();
			assert.equal(await page.getByRole('button', {name: `New ${one}`}).count(), 0, `no New ${one} button`);
			assert.equal(await page.getByRole('button', {name: /^(Edit|Delete|Sync)\b/}).count(), 0, 'no edit, delete or sync buttons');
		}
		await gotoOrgPage(page, 'api-keys', 'API keys');
		await page.getByText('Only admins').waitFor();
		assert.equal(await page.locator('main form').count(), 0);
		// The API stays the authority: a forged request is refused.
		const forged = await apiFetch(page, 'POST', `/orgs/${S.orgId}/invitations`, {email: `x-${RUN}@example.test`, role: 'admin'});
		assert.equal(forged.status, 403);
		assert.equal(forged.body.error.code, 'forbidden');
		await close();
	});

	test('the write member creates a source whose password shows as ••••', async () => {
		const {page, close} = await open();
		await signIn(page, S.writer);
		const nav = page.getByRole('navigation', {name: 'Organization'});
		for (const label of ADMIN_NAV) assert.equal(await nav.getByRole('link', {name: label}).count(), 0, `no ${label} link`);
		await nav.getByRole('link', {name: 'Sources'}).click();
		await heading(page, 'Sources');
		await page.getByRole('button', {name: 'New source'}).click();
		const form = page.locator('form[data-form="source"]');
		await form.getByLabel('Name').fill('Warehouse DB');
		await form.getByLabel('Type').fill('postgres');
		await form.getByLabel('Key 1').fill('host');
		await form.getByLabel('Value 1').fill('db.internal');
		await form.getByRole('button', {name: '+ Add key'}).click();
		await form.getByLabel('Key 2').fill('password');
		const secret = form.getByLabel('Value 2');
		await secret.fill('hunter2-very-secret');
		assert.equal(await secret.getAttribute('type'), 'password', 'a secret value is typed into a password field');
		await shot(page, 'source-form');
		await form.getByRole('button', {name: 'Create source'}).click();
		const row = page.locator('tr[data-name="Warehouse DB"]');
		await row.waitFor();
		const text = await row.innerText();
		assert.match(text, /password\s*••••/);
		assert.match(text, /db\.internal/);
		assert.ok(!(await page.content()).includes('hunter2'), 'the secret is nowhere in the page');
		// Edit without retyping the secret: it stays as it was.
		await row.getByRole('button', {name: 'Edit Warehouse DB'}).click();
		const edit = page.locator('form[data-form="source"]');
		assert.equal(await edit.getByLabel('Value 2').inputValue(), '');
		assert.match(await edit.getByLabel('Value 2').getAttribute('placeholder'), /unchanged/);
		await edit.getByLabel('Value 1').fill('db2.internal');
		await edit.getByRole('button', {name: 'Save changes'}).click();
		await page.locator('tr[data-name="Warehouse DB"]', {hasText: 'db2.internal'}).waitFor();
		const list = await apiFetch(page, 'GET', `/orgs/${S.orgId}/sources`);
		const src = list.body.items.find((s) => s.name === 'Warehouse DB');
		assert.equal(src.config.password, '********');
		assert.equal(src.config.host, 'db2.internal');
		await shot(page, 'sources');
		// A destination, an integration with a token, and a connection between them.
		for (const [id, title, one, name, type, key, value] of [
			['destinations', 'Destinations', 'destination', 'Lake', 's3', 'bucket', 'acme-lake'],
			['integrations', 'Integrations', 'integration', 'Alerts', 'slack', 'webhook_token', 'xoxb-secret-token']]) {
			await gotoOrgPage(page, id, title);
			await page.getByRole('button', {name: `New ${one}`}).click();
			const f = page.locator(`form[data-form="${one}"]`);
			await f.getByLabel('Name').fill(name);
			await f.getByLabel('Type').fill(type);
			await f.getByLabel('Key 1').fill(key);
			await f.getByLabel('Value 1').fill(value);
			await f.getByRole('button', {name: `Create ${one}`}).click();
			await page.locator(`tr[data-name="${name}"]`).waitFor();
		}
		assert.match(await page.locator('tr[data-name="Alerts"]').innerText(), /webhook_token\s*••••/);
		await gotoOrgPage(page, 'connections', 'Connections');
		await page.getByRole('button', {name: 'New connection'}).click();
		const cf = page.locator('form[data-form="connection"]');
		await cf.getByLabel('Name').fill('Nightly load');
		await cf.getByLabel('Source').selectOption({label: 'Warehouse DB (postgres)'});
		await cf.getByLabel('Destination').selectOption({label: 'Lake (s3)'});
		await cf.getByLabel('Alerts (slack)').check();
		await cf.getByLabel('Every', {exact: true}).check();
		await cf.getByLabel('Minutes between syncs').fill('15');
		await shot(page, 'connection-form');
		await cf.getByRole('button', {name: 'Create connection'}).click();
		const conn = page.locator('tr[data-name="Nightly load"]');
		await conn.waitFor();
		assert.match(await conn.innerText(), /Warehouse DB → Lake[\s\S]*Alerts[\s\S]*every 15 minutes[\s\S]*enabled/);
		await conn.getByRole('button', {name: 'Sync Nightly load'}).click();
		await page.getByText('Sync of Nightly load queued').waitFor();
		await shot(page, 'connections');
		// The admin pages stay closed even by URL.
		await gotoOrgPage(page, 'audit', 'Audit log');
		await page.getByText('Only admins').waitFor();
		await close();
	});

	test('the admin changes a role, removes a member, creates and revokes an API key, and sees it in the audit log', async () => {
		const {page, ctx, close} = await open();
		await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: BASE});
		await signIn(page, S.admin);
		await gotoOrgPage(page, 'members', 'Members');
		// Change the reader's role to write.
		await page.getByLabel(`Role of ${S.reader.name}`).selectOption('write');
		await page.getByText(`${S.reader.name} is now write.`).waitFor();
		// Remove the writer, after confirming.
		await page.getByRole('button', {name: `Remove ${S.writer.name}`}).click();
		const dlg = page.getByRole('dialog', {name: `Remove ${S.writer.name}?`});
		await dlg.waitFor();
		await shot(page, 'members-confirm-remove');
		await dlg.getByRole('button', {name: 'Remove member'}).click();
		await page.locator(`tr[data-email="${S.writer.email}"]`).waitFor({state: 'detached'});
		assert.equal(await page.getByLabel(`Role of ${S.reader.name}`).inputValue(), 'write');
		await shot(page, 'members-admin');

		// Create an API key: the token shows once, with a copy button.
		await gotoOrgPage(page, 'api-keys', 'API keys');
		await page.getByLabel('Name', {exact: true}).fill('nightly export');
		await page.getByLabel('Role', {exact: true}).selectOption('read');
		await page.getByRole('button', {name: 'Create API key'}).click();
		const token = page.getByLabel('Your new API key');
		await token.waitFor();
		assert.match(await token.inputValue(), /^fcm_[A-Za-z0-9_-]{43}$/);
		await page.getByRole('button', {name: 'Copy', exact: true}).click();
		await page.getByText(/Copied|Press Ctrl\+C/).waitFor();
		await shot(page, 'api-keys-created');
		await page.getByRole('button', {name: 'Done'}).click();
		assert.equal(await page.getByLabel('Your new API key').count(), 0, 'the token is gone once dismissed');
		const keyRow = page.locator('tr[data-name="nightly export"]');
		await keyRow.waitFor();
		await keyRow.getByRole('button', {name: 'Revoke nightly export'}).click();
		await page.getByRole('dialog').getByRole('button', {name: 'Revoke key'}).click();
		await page.getByText('API key nightly export was revoked.').waitFor();
		await keyRow.waitFor({state: 'detached'});

		// The audit log shows all of it, newest first.
		await gotoOrgPage(page, 'audit', 'Audit log');
		const actions = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.action));
		for (const a of ['api_key.revoked', 'api_key.created', 'member.removed', 'member.role_changed',
			'source.created', 'invitation.accepted', 'invitation.created', 'org.created']) {
			assert.ok(actions.includes(a), `${a} is in the audit log (${actions.join(', ')})`);
		}
		assert.ok(actions.indexOf('api_key.revoked') < actions.indexOf('api_key.created'), 'newest first');
		assert.ok(actions.indexOf('member.removed') < actions.indexOf('invitation.accepted'), 'newest first');
		await shot(page, 'audit');
		// Filter by action, then by actor.
		await page.getByLabel('Action').selectOption('member.removed');
		await page.getByRole('button', {name: 'Apply filters'}).click();
		await page.locator('[data-query*="action=member.removed"][aria-busy="false"]').waitFor({state: 'attached'});
		assert.deepEqual(await page.locator('tbody tr').evaluateAll((rows) => [...new Set(rows.map((r) => r.dataset.action))]), ['member.removed']);
		assert.equal(await page.locator('tbody tr').count(), 1);
		await page.getByLabel('Action').selectOption('');
		await page.getByLabel('Actor').selectOption({label: `${S.reader.name} (${S.reader.email})`});
		await page.getByRole('button', {name: 'Apply filters'}).click();
		await page.locator('[data-query*="actor_id="]:not([data-query*="action="])[aria-busy="false"]').waitFor({state: 'attached'});
		assert.equal(await page.locator('tbody tr[data-action="api_key.created"]').count(), 0, 'the reader created no API key');
		assert.equal(await page.locator('tbody tr[data-action="member.removed"]').count(), 0, 'the reader removed nobody');
		await close();
	});

	test('invitation links explain canceled invitations and a signed-in user with another email', async () => {
		const {page, close} = await open();
		await signIn(page, S.admin);
		await gotoOrgPage(page, 'invitations', 'Invitations');
		const since = Date.now();
		const canceled = `carl-${RUN}@example.test`;
		const other = `otto-${RUN}@example.test`;
		for (const email of [canceled, other]) {
			await page.getByLabel('Email', {exact: true}).fill(email);
			await page.getByRole('button', {name: 'Send invitation', exact: true}).click();
			await page.locator(`tr[data-email="${email}"]`).waitFor();
		}
		const [canceledLink, otherLink] = await Promise.all([inviteLink(canceled, since), inviteLink(other, since)]);
		await page.getByRole('button', {name: `Cancel invitation to ${canceled}`}).click();
		await page.getByRole('dialog').getByRole('button', {name: 'Cancel invitation'}).click();
		await page.locator(`tr[data-email="${canceled}"]`).waitFor({state: 'detached'});
		await page.getByLabel('Show').selectOption('canceled');
		await page.locator(`tr[data-email="${canceled}"]`, {hasText: 'canceled'}).waitFor();
		await shot(page, 'invitations-canceled');
		// Signed in as the admin, the other invitation is for another email.
		await page.goto(otherLink);
		await heading(page, `Join ${S.orgName}`);
		await page.getByText(`You are signed in as ${S.admin.email}, but this invitation is for ${other}`).waitFor();
		await shot(page, 'invite-mismatch');
		const forged = await page.evaluate(async (link) => {
			const me = await (await fetch('/api/v1/me')).json();
			const token = link.split('/invite/')[1];
			const r = await fetch(`/api/v1/invitations/${token}/accept`, {method: 'POST',
				headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token}, body: '{}'});
			return {status: r.status, body: await r.json()};
		}, otherLink);
		assert.equal(forged.status, 403);
		assert.equal(forged.body.error.code, 'email_mismatch');
		// Canceled: a plain message, no form.
		await page.goto(canceledLink);
		await heading(page, 'This invitation was canceled');
		assert.equal(await page.locator('main form').count(), 0);
		await shot(page, 'invite-canceled');
		// Unknown token.
		await page.goto(`${BASE}/invite/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`);
		await heading(page, 'This invitation link is not valid');
		await close();
	});

	test('the verification page explains replaced, used and invalid links; the banner sends a new link', async () => {
		const {page, close} = await open(360);
		const who = {name: 'Vera Verify', email: `vera-${RUN}@example.test`};
		await page.goto(`${BASE}/#/signup`);
		await heading(page, 'Create your account');
		await page.getByLabel('Your name').fill(who.name);
		await page.getByLabel('Email').fill(who.email);
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', {name: 'Create account'}).click();
		await heading(page, 'Organizations');
		const [first] = await verifyLinks(who.email);
		await banner(page).getByRole('button', {name: 'Send a new link'}).click();
		await banner(page).getByText(`A new link is on its way to ${who.email}`).waitFor();
		await shot(page, 'verify-banner-resent');
		const links = await verifyLinks(who.email, 2);
		assert.equal(links[0], first);
		await page.goto(first);
		await heading(page, 'A newer link was sent');
		assert.match(await banner(page).innerText(), /Please verify your email address/, 'still unverified');
		await shot(page, 'verify-replaced');
		await page.goto(links[1]);
		await heading(page, 'Your email address is verified');
		assert.match(await page.getByRole('status').first().innerText(), new RegExp(who.email));
		assert.equal(await banner(page).count(), 0, 'the banner goes away at once');
		await page.goto(links[1]);
		await heading(page, 'This link was already used');
		await page.goto(`${BASE}/verify/not-a-real-token`);
		await heading(page, 'This verification link is not valid');
		await shot(page, 'verify-invalid');
		// Signed out, the page works the same (the token is the proof).
		const other = await open();
		await other.page.goto(links[1]);
		await heading(other.page, 'This link was already used');
		await other.page.getByRole('link', {name: 'Sign in'}).waitFor();
		await other.close();
		await close();
	});

	test('every page works at 360 px and 1280 px: labelled controls, visible focus, no sideways scrolling', async () => {
		const {page, close} = await open(360);
		await signIn(page, S.admin);
		const pages = [['members', 'Members'], ['invitations', 'Invitations'], ...DATA_PAGES.map(([id, t]) => [id, t]),
			['api-keys', 'API keys'], ['settings', 'Settings & billing'], ['audit', 'Audit log'], ['review', 'Access review']];
		for (const width of [360, 1280]) {
			await page.setViewportSize({width, height: 900});
			for (const [id, title] of pages) {
				await gotoOrgPage(page, id, title);
				await page.waitForLoadState('networkidle');
				const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
					.filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
					.map((el) => el.outerHTML.slice(0, 80)));
				assert.deepEqual(unlabelled, [], `${id}: every control has a label`);
				const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
				assert.ok(overflow <= 0, `${id} at ${width}px scrolls sideways by ${overflow}px`);
				await shot(page, `${id}-${width}`);
			}
		}
		// Keyboard: after a navigation the focus is on the page's <h1>; Tab
		// goes on to the first control, with a visible focus outline.
		await gotoOrgPage(page, 'members', 'Members');
		assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1');
		await page.keyboard.press('Tab');
		const focus = await page.evaluate(() => {
			const el = document.activeElement;
			const cs = getComputedStyle(el);
			return {text: el.textContent, visible: el.matches(':focus-visible'), outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth)};
		});
		assert.equal(focus.text, 'Invite member');
		assert.ok(focus.visible && focus.outline !== 'none' && focus.width >= 2, `visible focus: ${JSON.stringify(focus)}`);
		// Settings: the org can be renamed; the invite TTL is validated.
		await gotoOrgPage(page, 'settings', 'Settings & billing');
		await page.getByLabel('Organization name').fill(`${S.orgName} Ltd`);
		await page.getByRole('button', {name: 'Save settings'}).click();
		await page.getByText('Settings saved.').waitFor();
		assert.equal(await page.locator('#org-switch option:checked').innerText(), `${S.orgName} Ltd`);
		// On the free plan a sync is refused with 402 plan_required: a plan message.
		await page.getByLabel('Plan', {exact: true}).selectOption('free');
		await page.getByRole('button', {name: 'Save billing'}).click();
		await page.locator('dl.facts .b-free').waitFor();
		await gotoOrgPage(page, 'connections', 'Connections');
		await page.getByRole('button', {name: 'Sync Nightly load'}).click();
		await page.getByRole('alert').filter({hasText: 'Syncing needs a trial or paid plan'}).waitFor();
		await shot(page, 'connections-plan-required');
		await close();
	});
});
