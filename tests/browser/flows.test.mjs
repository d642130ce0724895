// flows.test.mjs: the dashboard's user flows in real Chromium, seen as a
// person sees them (issues 8 and 13).
//
// Runs with node's own test runner against the nginx of a deploy/dev stack:
// FINICOM_URL (default http://127.0.0.1:8080) and FINICOM_MAILDIR (the SMTP
// sink's Maildir; invitation and verification links come from the real
// mail there).  Every
// test opens fresh browser contexts through lib/harness.mjs, which fails it
// on visible null/undefined/NaN/[object Object]/raw error codes, console
// errors, failed or unexpected requests (a test names each 4xx it expects
// with expecting()), requests leaving the origin and sideways scrolling
// under 720 px; check(label) after each step looks at the page then.  axe()
// runs axe-core in light and dark mode.  Screenshots go to
// tests/browser/screenshots/ (git-ignored).
//
// The tests of the describe block share one org and its people and run in
// order: the admin signs up, verifies the address from the mail and
// invites from the Members section, the invitees accept from the mail (which
// verifies their addresses), the read and write members look around, the
// admin manages, audits and bills; a newcomer meets the verification banner
// and each outcome of a verification link; then every page is visited as
// each role at 1280 and 390 px.

import {test, describe, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, statSync, mkdirSync, rmSync} from 'node:fs';
import {join, dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {open as openWatched, shot as shotIn, launch, heading, verifyLinks as mailedVerifyLinks} from './lib/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.FINICOM_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const MAILDIR = process.env.FINICOM_MAILDIR || resolve(HERE, '../../var/mail');
const SHOTS = join(HERE, 'screenshots');
const CHROMIUM = process.env.FINICOM_CHROMIUM || process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const MAIL_WAIT = 30000;
const NARROW = 390;

const RUN = Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36);
const PASSWORD = 'correct horse battery staple';
const S = {
	admin: {name: 'Ada Admin', email: `ada-${RUN}@example.test`},
	writer: {name: 'Wes Writer', email: `wes-${RUN}@example.test`},
	reader: {name: 'Rita Reader', email: `rita-${RUN}@example.test`},
	mover: {name: 'Max Mover', email: `max-${RUN}@example.test`},
	orgName: `Acme ${RUN}`,
	orgId: null,
};

let browser;

before(async () => {
	rmSync(SHOTS, {recursive: true, force: true}); // no picture from an older run
	mkdirSync(SHOTS, {recursive: true});
	browser = await launch(CHROMIUM);
});

after(async () => {
	if (browser) await browser.close();
});

const open = (opts) => openWatched(browser, BASE, opts);
const shot = (page, name) => shotIn(page, SHOTS, name);


async function signIn(t, who) {
	const {page} = t;
	await page.goto(`${BASE}/#/signin`);
	await heading(page, 'Sign in');
	await page.getByLabel('Email').fill(who.email);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await heading(page, 'Members');
	await t.check(`${who.name} signs in`);
}

async function gotoOrgPage(page, id, title) {
	await page.goto(`${BASE}/#/o/${S.orgId}/${id}`);
	await heading(page, title);
}

// inviteLink(email, notBefore, except): the accept link of the newest mail
// to email in the sink's Maildir (not older than notBefore, other than
// except), polled until it shows up (MAIL_WAIT ms at most).
async function inviteLink(email, notBefore = 0, except = null) {
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
			if (m && (!except || !except.endsWith(m[1].slice(m[1].indexOf('/invite/')))) && (!best || st.mtimeMs > best.at)) best = {at: st.mtimeMs, link: m[1]};
		}
		// Open the link on the stack under test, whatever public_url says.
		if (best) return BASE + best.link.slice(best.link.indexOf('/invite/'));
		if (Date.now() > deadline) throw new Error(`no invitation mail for ${email} in ${dir} after ${MAIL_WAIT / 1000} s (is finicom-mailer running?)`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

// verifyLinks(email, n): the verification links mailed to email (lib/harness.mjs).
const verifyLinks = (email, n = 1) => mailedVerifyLinks(BASE, MAILDIR, email, n);

const banner = (page) => page.getByRole('region', {name: 'Email verification'});

// apiFetch(page, method, path, body): a request from inside the page with
// the session cookie and CSRF token, as a forged click would send it.
const apiFetch = (page, method, path, body) => page.evaluate(async ([method, path, body]) => {
	const me = await (await fetch('/api/v1/me')).json();
	const r = await fetch('/api/v1' + path, {method, headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token},
		body: body === undefined ? undefined : JSON.stringify(body)});
	return {status: r.status, body: r.status === 204 ? null : await r.json()};
}, [method, path, body]);

// writes(page): the unsafe API requests the page sends from now on.
function writes(page) {
	const seen = [];
	page.on('request', (r) => {
		if (r.method() !== 'GET' && new URL(r.url()).pathname.startsWith('/api/')) seen.push(`${r.method()} ${new URL(r.url()).pathname}`);
	});
	return seen;
}

const ORG_PAGES = [['members', 'Members'], ['sources', 'Sources'], ['integrations', 'Integrations'],
	['destinations', 'Destinations'], ['connections', 'Connections'], ['api-keys', 'API keys'],
	['settings', 'Settings & billing'], ['audit', 'Audit log'], ['alerts', 'Alerts'], ['review', 'Access reviews']];
const ADMIN_NAV = ['API keys', 'Settings & billing', 'Audit log', 'Alerts', 'Access reviews'];
const DATA_PAGES = [['sources', 'Sources', 'source'], ['integrations', 'Integrations', 'integration'],
	['destinations', 'Destinations', 'destination'], ['connections', 'Connections', 'connection']];

// invite(t, who, role): through the Members section's dialog.
async function invite(t, who, role) {
	const {page} = t;
	who.invitedAt = Date.now();
	await page.getByRole('button', {name: 'Invite member'}).click();
	const dlg = page.getByRole('dialog', {name: `Invite a member to ${S.orgName}`});
	await dlg.waitFor();
	assert.equal(await page.evaluate(() => document.activeElement.name), 'email', 'the email field has the focus');
	assert.equal(await dlg.getByRole('radio', {name: 'Read'}).isChecked(), true, 'the role starts at read, the least access');
	await dlg.getByLabel('Email address').fill(who.email);
	await dlg.getByRole('radio', {name: role[0].toUpperCase() + role.slice(1)}).check();
	await dlg.getByRole('button', {name: 'Send invitation'}).click();
	await dlg.waitFor({state: 'detached'});
	await page.getByText(`Invitation sent to ${who.email} as ${role[0].toUpperCase() + role.slice(1)}.`).waitFor();
	const row = page.locator(`tr[data-kind="invitation"][data-email="${who.email}"]`);
	await row.waitFor();
	assert.match(await row.innerText(), new RegExp(`${role}[\\s\\S]*pending[\\s\\S]*expires in 7 days`, 'i'));
	await t.check(`invite ${who.email} as ${role}`);
}

describe('team access flows', () => {
	test('an admin signs up, creates an org and invites from the Members section', async () => {
		const t = await open();
		const {page} = t;
		// Signed out: no request that is bound to fail (no 401 for /me).
		await page.goto(`${BASE}/`);
		await heading(page, 'Sign in');
		await t.check('the sign-in page, signed out');
		await t.axe('sign-in');
		assert.equal(await page.evaluate(() => document.activeElement.name), 'email');
		await shot(page, 'signin-1280');
		await page.getByRole('link', {name: 'Create an account'}).click();
		await heading(page, 'Create your account');
		await t.axe('sign-up');
		await page.getByLabel('Your name').fill(S.admin.name);
		await page.getByLabel('Email').fill(S.admin.email);
		await page.getByLabel('Password').fill(PASSWORD);
		await shot(page, 'signup-1280');
		await page.getByRole('button', {name: 'Create account'}).click();
		await heading(page, 'Organizations');
		assert.doesNotMatch(await page.locator('#orgbar').innerText(), /null/, 'no stray "null" without orgs');
		// Until the address is verified a banner says so, on every page.
		assert.match(await banner(page).innerText(), new RegExp(`Please verify your email address\\.[\\s\\S]*${S.admin.email}`));
		await t.check('signed up');
		await t.axe('organizations, none yet, with the banner');
		await shot(page, 'organizations-unverified-1280');
		await page.getByLabel('Organization name').fill(S.orgName);
		await page.getByRole('button', {name: 'Create organization'}).click();
		await heading(page, 'Members');
		S.orgId = /#\/o\/([0-9a-f-]{36})\//.exec(page.url())[1];
		assert.equal(await page.locator('#org-switch').inputValue(), S.orgId);
		const me = page.locator(`tr[data-email="${S.admin.email}"]`);
		assert.match(await me.innerText(), /Ada Admin \(you\)[\s\S]*Admin/);
		await t.check('the new org\'s Members');

		// Unverified, the admin cannot invite yet: the dialog says why in words.
		assert.equal(await banner(page).count(), 1, 'the banner is on the org pages too');
		await page.getByRole('button', {name: 'Invite member'}).click();
		const early = page.getByRole('dialog', {name: `Invite a member to ${S.orgName}`});
		await early.getByLabel('Email address').fill(S.writer.email);
		await t.expecting('POST', /\/invitations$/, 403, async () => {
			await early.getByRole('button', {name: 'Send invitation'}).click();
			await early.getByRole('alert').filter({hasText: 'Verify your email address first'}).waitFor();
		});
		await t.check('inviting before the address is verified');
		await shot(page, 'members-invite-unverified-1280');
		await early.getByRole('button', {name: 'Cancel'}).click();
		await early.waitFor({state: 'detached'});
		// The link of the real verification mail, opened in the browser that
		// is signed in: verified, and the banner goes at once.
		const [verifyLink] = await verifyLinks(S.admin.email);
		await page.goto(verifyLink);
		await heading(page, 'Your email address is verified');
		assert.match(await page.getByRole('status').filter({hasText: 'Thank you'}).innerText(), new RegExp(`${S.admin.email} is verified`));
		assert.equal(await banner(page).count(), 0, 'no banner once verified');
		await t.check('the address verified');
		await t.axe('the verify page');
		await shot(page, 'verify-ok-1280');
		await page.getByRole('link', {name: 'Open the dashboard'}).click();
		await heading(page, 'Members');
		assert.equal(await banner(page).count(), 0, 'nor on the next page');
		await t.check('back in the org, verified');

		// The invite dialog: each role with a line on what it may do.
		await page.getByRole('button', {name: 'Invite member'}).click();
		const dlg = page.getByRole('dialog', {name: `Invite a member to ${S.orgName}`});
		await dlg.waitFor();
		assert.equal(await page.evaluate(() => document.activeElement.name), 'email', 'the email field has the focus');
		const descriptions = await dlg.getByRole('radio').evaluateAll((xs) => xs.map((x) =>
			`${x.labels[0].textContent}: ${document.getElementById(x.getAttribute('aria-describedby')).textContent}`));
		assert.equal(descriptions.length, 3);
		assert.match(descriptions[0], /^Read: Views .* changes nothing\.$/);
		assert.match(descriptions[1], /^Write: .*creates, changes and syncs/);
		assert.match(descriptions[2], /^Admin: .*members, invitations, settings, billing, API keys/);
		await t.axe('the invite dialog');
		await shot(page, 'members-invite-dialog-1280');
		// A refused address: the error in people's words, the field marked.
		await dlg.getByLabel('Email address').fill(`nodot-${RUN}@localhost`);
		await dlg.getByRole('radio', {name: 'Admin'}).check();
		await t.expecting('POST', /\/invitations$/, 400, async () => {
			await dlg.getByRole('button', {name: 'Send invitation'}).click();
			await dlg.getByRole('alert').filter({hasText: /^Email /}).waitFor();
		});
		assert.equal(await dlg.getByLabel('Email address').getAttribute('aria-invalid'), 'true');
		await t.check('the invite dialog with a refused address');
		await shot(page, 'members-invite-error-1280');
		await dlg.getByRole('button', {name: 'Cancel'}).click();
		await dlg.waitFor({state: 'detached'});
		// Opened again it is a fresh form: no old error, no old email, role read.
		await page.getByRole('button', {name: 'Invite member'}).click();
		await dlg.waitFor();
		assert.equal(await dlg.getByRole('alert').isVisible(), false, 'no error left from last time');
		assert.equal(await dlg.getByLabel('Email address').inputValue(), '');
		assert.equal(await dlg.getByRole('radio', {name: 'Read'}).isChecked(), true, 'the role is back at read');
		await shot(page, 'members-invite-dialog-fresh-1280');
		await page.keyboard.press('Escape');
		await dlg.waitFor({state: 'detached'});

		await invite(t, S.writer, 'write');
		await invite(t, S.reader, 'read');
		await invite(t, S.mover, 'admin');
		// An address with a pending invitation: resend instead.
		await page.getByRole('button', {name: 'Invite member'}).click();
		await dlg.getByLabel('Email address').fill(S.reader.email);
		await t.expecting('POST', /\/invitations$/, 409, async () => {
			await dlg.getByRole('button', {name: 'Send invitation'}).click();
			await dlg.getByRole('alert').filter({hasText: 'already has a pending invitation'}).waitFor();
		});
		await t.check('inviting an address twice');
		await dlg.getByRole('button', {name: 'Cancel'}).click();
		await page.getByText(/^1 member and 3 pending invitations\.$/).waitFor();
		await t.axe('members with pending invitations');
		await shot(page, 'members-pending-1280');
		await t.close();
	});

	for (const [key, role] of [['writer', 'write'], ['reader', 'read'], ['mover', 'admin']]) {
		test(`the ${role} invitee opens the link from the mail and creates the account`, async () => {
			assert.ok(S.orgId, 'the org exists (first test)');
			const who = S[key];
			const link = await inviteLink(who.email, who.invitedAt);
			const t = await open();
			const {page} = t;
			await page.goto(link);
			await heading(page, `Join ${S.orgName}`);
			const card = page.getByRole('region', {name: 'Invitation'});
			assert.match(await card.innerText(), new RegExp(`${S.admin.name} invited you to join ${S.orgName} with the role ${role}`, 'i'));
			assert.match(await card.innerText(), new RegExp(who.email));
			assert.equal(await page.getByLabel('Email').inputValue(), who.email);
			await t.check('the invitation page');
			if (key === 'writer') {
				await t.axe('the invitation page');
				await shot(page, 'invite-1280');
			}
			await page.getByLabel('Your name').fill(who.name);
			await page.getByLabel('Choose a password').fill(PASSWORD);
			await page.getByRole('button', {name: 'Create account and join'}).click();
			await heading(page, 'Members');
			assert.ok(page.url().includes(`#/o/${S.orgId}/members`), page.url());
			assert.match(await page.locator(`tr[data-email="${who.email}"]`).innerText(), new RegExp(role, 'i'));
			await t.check('joined');
			// The link works once: opened again it says so.
			await t.expecting('GET', /^\/api\/v1\/invitations\//, 410, async () => {
				await page.goto(link);
				await heading(page, 'already accepted');
			});
			await t.check('the link opened again');
			await t.close();
		});
	}

	test('the read member sees what they may do: no admin pages, no Actions column, no edit controls', async () => {
		const t = await open();
		const {page} = t;
		await signIn(t, S.reader);
		const nav = page.getByRole('navigation', {name: 'Organization'});
		for (const label of ADMIN_NAV) assert.equal(await nav.getByRole('link', {name: label}).count(), 0, `no ${label} link`);
		const members = page.getByRole('table', {name: 'Current members'});
		const headers = await members.getByRole('columnheader').allInnerTexts();
		assert.deepEqual(headers.map((x) => x.toLowerCase()), ['name', 'email', 'role', 'last active', 'access ends', 'joined'], 'no empty Actions column');
		assert.equal(await page.getByRole('button', {name: /^(Change role|Remove|Invite member)/}).count(), 0);
		assert.equal(await page.locator('#invitations').count(), 0, 'invitations are for admins');
		await page.getByRole('button', {name: 'Leave organization'}).waitFor();
		await shot(page, 'members-read-1280');
		for (const [id, title, one] of DATA_PAGES) {
			await gotoOrgPage(page, id, title);
			await page.getByText('Your role (read) can view them but not change them').waitFor();
			assert.equal(await page.getByRole('button', {name: `New ${one}`}).count(), 0, `no New ${one} button`);
			assert.equal(await page.getByRole('button', {name: /^(Edit|Delete|Sync)\b/}).count(), 0, 'no edit, delete or sync buttons');
			await t.check(`${title} as read`);
		}
		await gotoOrgPage(page, 'api-keys', 'API keys');
		await page.getByText('Only admins').waitFor();
		assert.equal(await page.locator('main form').count(), 0);
		// The API stays the authority: a forged request is refused.
		await t.expecting('POST', /\/invitations$/, 403, async () => {
			const forged = await apiFetch(page, 'POST', `/orgs/${S.orgId}/invitations`, {email: `x-${RUN}@example.test`, role: 'admin'});
			assert.equal(forged.status, 403);
			assert.equal(forged.body.error.code, 'forbidden');
		});
		await t.close();
	});

	test('the write member creates a source whose password shows as ••••, and a connection', async () => {
		const t = await open();
		const {page} = t;
		await signIn(t, S.writer);
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
		await t.check('the source form');
		await shot(page, 'source-form-1280');
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
		await t.check('the source saved');
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
			await t.check(`${one} created`);
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
		await t.check('the connection form');
		await shot(page, 'connection-form-1280');
		await cf.getByRole('button', {name: 'Create connection'}).click();
		const conn = page.locator('tr[data-name="Nightly load"]');
		await conn.waitFor();
		assert.match(await conn.innerText(), /Warehouse DB → Lake[\s\S]*Alerts[\s\S]*every 15 minutes[\s\S]*enabled/);
		await conn.getByRole('button', {name: 'Sync Nightly load'}).click();
		await page.getByText('Sync of Nightly load queued').waitFor();
		await conn.getByRole('button', {name: 'Runs of Nightly load'}).click();
		await page.getByRole('heading', {name: 'Recent runs of Nightly load'}).waitFor();
		assert.match(await page.getByRole('table', {name: 'Runs'}).innerText(), new RegExp(`queued[\\s\\S]*${S.writer.name}`), 'runs name who asked');
		await t.check('a sync requested');
		await shot(page, 'connections-1280');
		// The admin pages stay closed even by URL.
		await gotoOrgPage(page, 'audit', 'Audit log');
		await page.getByText('Only admins').waitFor();
		await t.close();
	});

	test('the admin changes roles after a confirmation that says what changes, and removes a member', async () => {
		const t = await open();
		const {page} = t;
		const sent = writes(page);
		await signIn(t, S.admin);

		// read → write, with the change spelled out.
		await page.getByRole('button', {name: `Change role of ${S.reader.name}`}).click();
		let dlg = page.getByRole('dialog', {name: `Change the role of ${S.reader.name}`});
		await dlg.waitFor();
		assert.equal(await dlg.getByRole('button', {name: 'Change role'}).isDisabled(), true, 'nothing to confirm before a new role is chosen');
		await dlg.getByRole('radio', {name: 'Write'}).check();
		await dlg.getByText(`${S.reader.name} will be able to create, change and sync sources, integrations, destinations and connections.`).waitFor();
		await t.check('the role dialog, read to write');
		await t.axe('the role dialog');
		await shot(page, 'members-role-change-confirm-1280');
		await dlg.getByRole('button', {name: 'Make Rita Write'}).click();
		await dlg.waitFor({state: 'detached'});
		await page.locator(`tr[data-email="${S.reader.email}"]`, {hasText: 'Write'}).waitFor();
		assert.deepEqual(sent.splice(0), [`POST /api/v1/auth/login`, `PATCH /api/v1/orgs/${S.orgId}/members/${await userId(page, S.reader)}`]);

		// A change that is canceled changes nothing (a select would have).
		await page.getByRole('button', {name: `Change role of ${S.writer.name}`}).click();
		dlg = page.getByRole('dialog', {name: `Change the role of ${S.writer.name}`});
		await dlg.getByRole('radio', {name: 'Read'}).check();
		await dlg.getByText(`${S.writer.name} will no longer be able to create, change or sync sources, integrations, destinations and connections; they can still view them.`).waitFor();
		await dlg.getByRole('button', {name: 'Cancel'}).click();
		await dlg.waitFor({state: 'detached'});
		assert.deepEqual(sent.splice(0), [], 'no request for a canceled change');
		assert.match(await page.locator(`tr[data-email="${S.writer.email}"]`).innerText(), /Write/);

		// write → read: back to what Rita needs.
		await page.getByRole('button', {name: `Change role of ${S.reader.name}`}).click();
		dlg = page.getByRole('dialog', {name: `Change the role of ${S.reader.name}`});
		await dlg.getByRole('radio', {name: 'Read'}).check();
		await dlg.getByRole('button', {name: 'Make Rita Read'}).click();
		await page.locator(`tr[data-email="${S.reader.email}"]`, {hasText: 'Read'}).waitFor();

		// Demoting an admin: the loss is spelled out and needs a tick.
		await page.getByRole('button', {name: `Change role of ${S.mover.name}`}).click();
		dlg = page.getByRole('dialog', {name: `Change the role of ${S.mover.name}`});
		await dlg.getByRole('radio', {name: 'Write'}).check();
		await dlg.getByText(`${S.mover.name} will lose access to members and invitations, settings and billing, API keys and the audit log.`).waitFor();
		const confirm = dlg.getByRole('button', {name: 'Make Max Write'});
		assert.equal(await confirm.isDisabled(), true, 'demoting an admin waits for the tick');
		await t.check('demoting an admin');
		await shot(page, 'members-demote-admin-confirm-1280');
		await dlg.getByLabel(`I understand that ${S.mover.name} will no longer be an admin`).check();
		await confirm.click();
		await page.locator(`tr[data-email="${S.mover.email}"]`, {hasText: 'Write'}).waitFor();

		// Your own role: the same care; the last admin cannot step down.
		await page.getByRole('button', {name: `Change role of ${S.admin.name}`}).click();
		dlg = page.getByRole('dialog', {name: 'Change your role'});
		await dlg.getByRole('radio', {name: 'Write'}).check();
		await dlg.getByText('You will lose access to members and invitations, settings and billing, API keys and the audit log.').waitFor();
		await dlg.getByText('Only another admin can make you an admin again.').waitFor();
		await dlg.getByLabel(`I understand that I will no longer be an admin of ${S.orgName}`).check();
		await t.expecting('PATCH', /\/members\//, 409, async () => {
			await dlg.getByRole('button', {name: 'Make me Write'}).click();
			await dlg.getByRole('alert').filter({hasText: 'An organization needs at least one admin'}).waitFor();
		});
		await t.check('the last admin tries to step down');
		await shot(page, 'members-last-admin-1280');
		await dlg.getByRole('button', {name: 'Cancel'}).click();

		// Remove Max, after a confirmation that says what it does.
		await page.getByRole('button', {name: `Remove ${S.mover.name}`}).click();
		dlg = page.getByRole('dialog', {name: `Remove ${S.mover.name} from ${S.orgName}?`});
		await dlg.getByText(`${S.mover.name} (${S.mover.email}) loses access to ${S.orgName} at once`).waitFor();
		assert.deepEqual(await dlg.getByRole('button').allInnerTexts(), ['Keep member', 'Remove member']);
		await t.axe('the remove dialog');
		await shot(page, 'members-confirm-remove-1280');
		S.mover.id = await userId(page, S.mover);
		await dlg.getByRole('button', {name: 'Remove member'}).click();
		await page.locator(`tr[data-email="${S.mover.email}"]`).waitFor({state: 'detached'});
		await t.check('Max removed');
		await shot(page, 'members-admin-1280');
		await t.close();
	});

	test('navigation shows a loading state: the old page is busy and inert until the new one is there', async () => {
		const t = await open();
		const {page} = t;
		await signIn(t, S.admin);
		let release;
		const gate = new Promise((r) => (release = r));
		const sources = /\/api\/v1\/orgs\/[^/]+\/sources\?/;
		await page.route(sources, async (route) => {
			await gate;
			await route.continue();
		});
		await page.getByRole('navigation').getByRole('link', {name: 'Sources'}).click();
		await page.locator('main[aria-busy="true"]').waitFor({state: 'attached'});
		await page.getByRole('status').filter({hasText: 'Loading…'}).waitFor();
		const state = await page.evaluate(() => {
			const rm = document.querySelector('main button.danger');
			return {inert: !!(rm && rm.closest('[inert]')), current: document.querySelector('nav a[aria-current="page"]').textContent};
		});
		assert.deepEqual(state, {inert: true, current: 'Sources'}, 'the old Remove buttons cannot be used; the menu shows where we go');
		await t.check('loading Sources');
		await shot(page, 'loading-state-1280');
		release();
		await heading(page, 'Sources');
		assert.equal(await page.locator('main [inert]').count(), 0);
		assert.equal(await page.locator('main').getAttribute('aria-busy'), null);
		await page.unroute(sources);
		await t.check('Sources loaded');
		await t.close();
	});

	test('the admin creates and revokes an API key, and reads the audit log as sentences', async () => {
		const t = await open();
		const {page, ctx} = t;
		await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: BASE});
		await signIn(t, S.admin);
		await gotoOrgPage(page, 'api-keys', 'API keys');
		await page.getByLabel('Name', {exact: true}).fill('nightly export');
		await page.getByRole('radio', {name: 'Read'}).check();
		await page.getByRole('button', {name: 'Create API key'}).click();
		const token = page.getByLabel('Your new API key');
		await token.waitFor();
		assert.match(await token.inputValue(), /^fcm_[A-Za-z0-9_-]{43}$/);
		await page.getByRole('button', {name: 'Copy', exact: true}).click();
		await page.getByText(/Copied|Press Ctrl\+C/).waitFor();
		await t.check('an API key created');
		await shot(page, 'api-keys-created-1280');
		await page.getByRole('button', {name: 'Done'}).click();
		assert.equal(await page.getByLabel('Your new API key').count(), 0, 'the token is gone once dismissed');
		const keyRow = page.locator('tr[data-name="nightly export"]');
		await keyRow.getByRole('button', {name: 'Revoke nightly export'}).click();
		const kd = page.getByRole('dialog', {name: 'Revoke the API key nightly export?'});
		assert.deepEqual(await kd.getByRole('button').allInnerTexts(), ['Keep key', 'Revoke key']);
		await kd.getByRole('button', {name: 'Revoke key'}).click();
		await page.getByText('API key nightly export was revoked.').waitFor();
		await keyRow.waitFor({state: 'detached'});

		// The audit log: sentences with names, newest first.
		await gotoOrgPage(page, 'audit', 'Audit log');
		const events = page.locator('li.event');
		const actions = await events.evaluateAll((xs) => xs.map((x) => x.dataset.action));
		for (const a of ['api_key.revoked', 'api_key.created', 'member.removed', 'member.role_changed',
			'source.created', 'invitation.accepted', 'invitation.created', 'org.created']) {
			assert.ok(actions.includes(a), `${a} is in the audit log (${actions.join(', ')})`);
		}
		assert.ok(actions.indexOf('api_key.revoked') < actions.indexOf('api_key.created'), 'newest first');
		const text = await page.locator('ol.events').innerText();
		for (const s of [
			`${S.admin.name} revoked the API key nightly export.`,
			`${S.admin.name} created the API key nightly export with the role read.`,
			`${S.admin.name} removed ${S.mover.email} (was write).`,
			`${S.admin.name} changed ${S.mover.email}'s role from admin to write.`,
			`${S.admin.name} changed ${S.reader.name}'s role from read to write.`,
			`${S.admin.name} changed ${S.reader.name}'s role from write to read.`,
			`${S.writer.name} requested a sync of the connection Nightly load.`,
			`${S.writer.name} added the integration Alerts to the connection Nightly load.`,
			`${S.writer.name} changed the source Warehouse DB: configuration.`,
			`${S.writer.name} created the source Warehouse DB.`,
			`${S.reader.name} joined as read.`,
			`${S.admin.name} invited ${S.reader.email} as read.`,
			`${S.admin.name} created the organization ${S.orgName}.`,
		]) assert.ok(text.includes(s), `the audit log says "${s}"`);
		assert.doesNotMatch(text, /member\.role_changed|[0-9a-f]{8}-[0-9a-f]{4}/, 'no codes or ids until asked for');
		await t.check('the audit log');
		// The raw event is one click away.
		const removed = events.filter({hasText: `removed ${S.mover.email}`});
		await removed.getByText('Raw event').click();
		const raw = await removed.locator('details.raw dl').innerText();
		assert.match(raw, /member\.removed/);
		assert.ok(raw.includes(S.mover.id), `the raw event has Max's user id ${S.mover.id}`);
		await t.check('a raw event opened');
		await t.axe('the audit log');
		await shot(page, 'audit-1280');

		// Filters: what, who, and a date range.
		const filtered = (q) => page.locator(`.eventlist[aria-busy="false"][data-query*="${q}"]`);
		await page.getByLabel('What happened').selectOption('member.removed');
		await page.getByRole('button', {name: 'Apply filters'}).click();
		await filtered('action=member.removed').waitFor({state: 'attached'});
		assert.deepEqual(await events.evaluateAll((xs) => [...new Set(xs.map((x) => x.dataset.action))]), ['member.removed']);
		assert.equal(await events.count(), 1);
		await page.getByLabel('What happened').selectOption('');
		await page.getByLabel('Who did it').selectOption({label: S.reader.name});
		await page.getByRole('button', {name: 'Apply filters'}).click();
		await filtered('actor_id=').waitFor({state: 'attached'});
		assert.equal(await page.locator('li.event[data-action="api_key.created"]').count(), 0, 'the reader created no API key');
		assert.ok(await events.count() >= 1, 'the reader did something (joined)');
		await page.getByRole('button', {name: 'Clear filters'}).click();
		const day = (offset) => {
			const d = new Date(Date.now() + offset * 86400000);
			return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
		};
		await page.getByLabel('From').fill(day(1));
		await page.getByRole('button', {name: 'Apply filters'}).click();
		await filtered('from=').waitFor({state: 'attached'});
		await page.getByText('No events match these filters.').waitFor();
		await page.getByLabel('From').fill(day(0));
		await page.getByLabel('To').fill(day(0));
		await page.getByRole('button', {name: 'Apply filters'}).click();
		await page.locator('.eventlist[aria-busy="false"][data-query*="to="]').waitFor({state: 'attached'});
		assert.ok(await events.count() >= 10, 'today has the events');
		await page.getByLabel('From').fill(day(1));
		await page.getByRole('button', {name: 'Apply filters'}).click();
		await page.getByRole('alert').filter({hasText: 'The start date is after the end date.'}).waitFor();
		await t.check('the audit filters');
		await page.getByRole('button', {name: 'Clear filters'}).click();
		await page.locator('.eventlist[aria-busy="false"]:not([data-query*="from="])').waitFor({state: 'attached'});

		// On a phone: cards, not 6,500 px of scrolling.
		await page.setViewportSize({width: NARROW, height: 844});
		const n = await events.count();
		const tallest = await events.evaluateAll((xs) => Math.max(...xs.map((x) => x.getBoundingClientRect().height)));
		const listHeight = await page.locator('ol.events').evaluate((x) => x.getBoundingClientRect().height);
		assert.ok(tallest < 160, `an event is a compact card (${tallest}px)`);
		assert.ok(listHeight / n < 120, `${n} events take ${listHeight}px`);
		await t.check('the audit log at 390 px');
		await removed.getByText('Raw event').click();
		await t.check('a raw event at 390 px');
		await shot(page, 'audit-raw-event-390');
		await t.close();
	});

	test('invitations in the Members section: cancel, the whole list with its dates, and what a link says', async () => {
		const t = await open();
		const {page} = t;
		await signIn(t, S.admin);
		const since = Date.now();
		const canceled = {email: `carl-${RUN}@example.test`};
		const other = {email: `otto-${RUN}@example.test`};
		for (const who of [canceled, other]) await invite(t, who, 'read');
		const [canceledLink, otherLink] = await Promise.all([inviteLink(canceled.email, since), inviteLink(other.email, since)]);
		await page.getByRole('button', {name: `Cancel invitation to ${canceled.email}`}).click();
		const dlg = page.getByRole('dialog', {name: `Cancel the invitation to ${canceled.email}?`});
		assert.deepEqual(await dlg.getByRole('button').allInnerTexts(), ['Keep invitation', 'Cancel invitation'], 'one Cancel, not two');
		await t.check('the cancel dialog');
		await shot(page, 'members-cancel-invitation-dialog-1280');
		await dlg.getByRole('button', {name: 'Cancel invitation'}).click();
		await page.locator(`tr[data-kind="invitation"][data-email="${canceled.email}"]`).waitFor({state: 'detached'});
		await page.getByText(`The invitation to ${canceled.email} was canceled.`).waitFor();
		// Resend: a new mail.
		const resentAt = Date.now();
		await page.getByRole('button', {name: `Resend invitation to ${other.email}`}).click();
		await page.getByText(`A new invitation email is on its way to ${other.email}`).waitFor();
		// Every invitation, with when it was sent and accepted or canceled.
		await page.getByLabel('Show').selectOption('all');
		await page.getByRole('heading', {name: /^Invitations: all/}).waitFor();
		const row = (email) => page.locator(`#invitations tr[data-email="${email}"]`);
		assert.match(await row(S.writer.email).innerText(), new RegExp(`accepted (just now|\\d+ (seconds?|minutes?) ago)[\\s\\S]*(just now|(seconds?|minutes?) ago) by ${S.admin.name}`));
		assert.match(await row(canceled.email).innerText(), /canceled (just now|\d+ seconds? ago)/);
		assert.match(await row(other.email).innerText(), /pending[\s\S]*expires in 7 days/);
		await t.check('every invitation');
		await t.axe('every invitation');
		await shot(page, 'members-invitations-all-1280');
		const newLink = await inviteLink(other.email, resentAt, otherLink);
		// Signed in as the admin, the other invitation is for another email.
		await page.goto(newLink);
		await heading(page, `Join ${S.orgName}`);
		await page.getByText(`You are signed in as ${S.admin.email}, but this invitation is for ${other.email}`).waitFor();
		await t.check('an invitation for someone else');
		await shot(page, 'invite-mismatch-1280');
		// The old link and the canceled one: plain messages, no form.
		await t.expecting('GET', /^\/api\/v1\/invitations\//, 404, async () => {
			await page.goto(otherLink);
			await heading(page, 'This invitation link is not valid');
		});
		await t.expecting('GET', /^\/api\/v1\/invitations\//, 410, async () => {
			await page.goto(canceledLink);
			await heading(page, 'This invitation was canceled');
		});
		assert.equal(await page.locator('main form').count(), 0);
		await t.check('a canceled invitation\'s link');
		await t.axe('a canceled invitation\'s link');
		await shot(page, 'invite-canceled-1280');
		await t.close();
	});

	test('the verification page says what a replaced, used or invalid link means; the banner sends a new link', async () => {
		const t = await open({width: NARROW, height: 844});
		const {page} = t;
		const who = {name: 'Vera Verify', email: `vera-${RUN}@example.test`};
		await page.goto(`${BASE}/#/signup`);
		await heading(page, 'Create your account');
		await page.getByLabel('Your name').fill(who.name);
		await page.getByLabel('Email').fill(who.email);
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', {name: 'Create account'}).click();
		await heading(page, 'Organizations');
		await banner(page).waitFor();
		await t.check('signed up, unverified, at 390 px');
		await t.axe('the banner at 390 px');
		await shot(page, 'verify-banner-390');
		await page.emulateMedia({colorScheme: 'dark'});
		await shot(page, 'verify-banner-390-dark');
		await page.emulateMedia({colorScheme: 'light'});
		const [first] = await verifyLinks(who.email);
		await banner(page).getByRole('button', {name: 'Send a new link'}).click();
		await banner(page).getByText(`A new link is on its way to ${who.email}; older links no longer work.`).waitFor();
		await t.check('a new link sent');
		await shot(page, 'verify-banner-resent-390');
		const links = await verifyLinks(who.email, 2);
		assert.equal(links[0], first);
		// The first link was replaced by the second.
		await t.expecting('POST', /^\/api\/v1\/auth\/verify\/./, 410, async () => {
			await page.goto(first);
			await heading(page, 'A newer link was sent');
		});
		assert.match(await banner(page).innerText(), /Please verify your email address/, 'still unverified');
		await t.check('a replaced link');
		await t.axe('a replaced link');
		await shot(page, 'verify-replaced-390');
		// Five new links a day: the sixth is refused, and the banner says for how long.
		for (let i = 0; i < 4; i++) assert.equal((await apiFetch(page, 'POST', '/auth/verify', {})).status, 202);
		await t.expecting('POST', /^\/api\/v1\/auth\/verify$/, 429, async () => {
			await banner(page).getByRole('button', {name: 'Send a new link'}).click();
			await banner(page).getByText(/^Five new links were sent in the last day, the most there can be\. The next can be sent in 2[34] hours\.$/).waitFor();
		});
		assert.equal(await banner(page).getByRole('button', {name: 'Send a new link'}).isDisabled(), true);
		await t.check('a sixth link in a day');
		await shot(page, 'verify-banner-rate-limited-390');
		await page.goto(`${BASE}/#/orgs`);
		await heading(page, 'Organizations');
		await t.check('the banner after a reload');
		const newest = (await verifyLinks(who.email, 6)).pop();
		// Opened signed out (another browser): the token is the proof.
		const other = await open({width: NARROW, height: 844});
		await other.page.goto(newest);
		await heading(other.page, 'Your email address is verified');
		await other.page.getByRole('link', {name: 'Sign in'}).waitFor();
		await other.check('verified while signed out');
		await other.close();
		// The first browser still shows the banner; asking for a link says it is done.
		await t.expecting('POST', /^\/api\/v1\/auth\/verify$/, 409, async () => {
			await banner(page).getByRole('button', {name: 'Send a new link'}).click();
			await banner(page).getByText('Your email address is verified already.').waitFor();
		});
		await t.check('verified meanwhile');
		await t.axe('the banner, verified meanwhile');
		await shot(page, 'verify-banner-verified-already-390');
		// The next page drawn has no banner (no reload: /me was asked again).
		await page.getByRole('link', {name: 'Finicom'}).click();
		await banner(page).waitFor({state: 'detached'});
		await heading(page, 'Organizations');
		// A link used already, and one that never was.
		await t.expecting('POST', /^\/api\/v1\/auth\/verify\/./, 410, async () => {
			await page.goto(newest);
			await heading(page, 'This link was already used');
		});
		await t.check('a used link');
		await t.expecting('POST', /^\/api\/v1\/auth\/verify\/./, 404, async () => {
			await page.goto(`${BASE}/verify/not-a-real-token`);
			await heading(page, 'This verification link is not valid');
		});
		assert.equal(await banner(page).count(), 0);
		await t.check('an invalid link');
		await t.axe('an invalid link');
		await shot(page, 'verify-invalid-390');
		await t.close();
	});

	test('settings and billing: a plan change asks first, the billing email can be cleared', async () => {
		const t = await open();
		const {page} = t;
		const sent = writes(page);
		await signIn(t, S.admin);
		await gotoOrgPage(page, 'settings', 'Settings & billing');
		await page.getByLabel('Organization name').fill(`${S.orgName} Ltd`);
		await page.getByRole('button', {name: 'Save settings'}).click();
		await page.getByText('Settings saved.').waitFor();
		assert.equal(await page.locator('#org-switch option:checked').innerText(), `${S.orgName} Ltd`);
		await page.getByLabel('Organization name').fill(S.orgName);
		await page.getByRole('button', {name: 'Save settings'}).click();
		await page.getByText('Settings saved.').waitFor();
		// A billing email, then none.
		await page.getByLabel('Billing email').fill(`billing-${RUN}@example.test`);
		await page.getByRole('button', {name: 'Save billing'}).click();
		await page.locator('dl.facts', {hasText: `billing-${RUN}@example.test`}).waitFor();
		await page.getByLabel('Billing email').fill('');
		await page.getByRole('button', {name: 'Save billing'}).click();
		await page.locator('dl.facts', {hasText: 'not set'}).waitFor();
		assert.equal((await apiFetch(page, 'GET', `/orgs/${S.orgId}/billing`)).body.billing_email, null);
		await t.check('the billing email cleared');
		await shot(page, 'billing-email-cleared-1280');
		// Trial → Pro: asked first; kept when the answer is no.
		sent.splice(0);
		await page.getByLabel('Plan', {exact: true}).selectOption('pro');
		await page.getByRole('button', {name: 'Save billing'}).click();
		let dlg = page.getByRole('dialog', {name: `Move ${S.orgName} from Trial to Pro?`});
		await dlg.getByText('Pro includes syncing connections.').waitFor();
		await t.check('the plan dialog');
		await t.axe('the plan dialog');
		await shot(page, 'billing-plan-confirm-1280');
		await dlg.getByRole('button', {name: 'Keep the plan'}).click();
		assert.deepEqual(sent.splice(0), [], 'no plan change without a yes');
		// Yes: this server leaves paid plans to its operator, and says so.
		await page.getByRole('button', {name: 'Save billing'}).click();
		dlg = page.getByRole('dialog', {name: `Move ${S.orgName} from Trial to Pro?`});
		await t.expecting('PATCH', /\/billing$/, 403, async () => {
			await dlg.getByRole('button', {name: 'Move to Pro'}).click();
			await page.getByRole('alert').filter({hasText: `Only the operator of this Finicom server can move ${S.orgName} to Pro`}).waitFor();
		});
		await t.check('Pro refused');
		// Free: always possible, and it stops syncs.
		await page.getByLabel('Plan', {exact: true}).selectOption('free');
		await page.getByRole('button', {name: 'Save billing'}).click();
		dlg = page.getByRole('dialog', {name: `Move ${S.orgName} from Trial to Free?`});
		await dlg.getByText('On the free plan connections cannot be synced').waitFor();
		await dlg.getByRole('button', {name: 'Move to Free'}).click();
		await page.locator('dl.facts .b-free').waitFor();
		await t.check('moved to Free');
		await gotoOrgPage(page, 'connections', 'Connections');
		await t.expecting('POST', /\/sync$/, 402, async () => {
			await page.getByRole('button', {name: 'Sync Nightly load'}).click();
			await page.getByRole('alert').filter({hasText: 'Syncing needs a trial or paid plan'}).waitFor();
		});
		await t.check('a sync on the free plan');
		await shot(page, 'connections-plan-required-1280');
		await t.close();
	});

	test('focus, menus and error pages: no ring on a loaded heading, a phone menu, no stale tab', async () => {
		const t = await open();
		const {page} = t;
		await signIn(t, S.admin);
		// A direct load leaves the focus alone: no ring around the heading.
		await gotoOrgPage(page, 'sources', 'Sources');
		await page.reload();
		await heading(page, 'Sources');
		const direct = await page.evaluate(() => ({tag: document.activeElement.tagName, ring: document.querySelector('main h1').matches(':focus-visible')}));
		assert.deepEqual(direct, {tag: 'BODY', ring: false});
		await shot(page, 'direct-load-focus-1280');
		// After a navigation in the page the focus is on the <h1>, without a
		// ring; Tab goes on to the first control, with one.
		await page.getByRole('navigation').getByRole('link', {name: 'Members'}).click();
		await heading(page, 'Members');
		const nav = await page.evaluate(() => {
			const el = document.activeElement;
			return {tag: el.tagName, outline: getComputedStyle(el).outlineStyle};
		});
		assert.deepEqual(nav, {tag: 'H1', outline: 'none'});
		await page.keyboard.press('Tab');
		const focus = await page.evaluate(() => {
			const el = document.activeElement;
			const cs = getComputedStyle(el);
			return {text: el.textContent, visible: el.matches(':focus-visible'), outline: cs.outlineStyle, width: parseFloat(cs.outlineWidth)};
		});
		assert.equal(focus.text, 'Invite member');
		assert.ok(focus.visible && focus.outline !== 'none' && focus.width >= 2, `visible focus: ${JSON.stringify(focus)}`);
		// An unknown page: no tab stays marked as the current one.
		await page.goto(`${BASE}/#/o/${S.orgId}/no-such-page`);
		await heading(page, 'Page not found');
		assert.equal(await page.locator('nav [aria-current]').count(), 0, 'no menu item is current');
		await t.check('page not found');
		await t.axe('page not found');
		await shot(page, 'page-not-found-1280');
		await t.expecting('GET', /^\/api\/v1\/orgs\/[0-9a-f-]+$/, 404, async () => {
			await page.goto(`${BASE}/#/o/00000000-0000-4000-8000-000000000000/members`);
			await heading(page, 'Organization not found');
		});
		assert.equal(await page.locator('nav').isVisible(), false);
		await t.check('organization not found');

		// A phone: the menu is one button that says how many pages there are.
		await page.setViewportSize({width: NARROW, height: 844});
		await gotoOrgPage(page, 'members', 'Members');
		const toggle = page.getByRole('button', {name: /^Menu/});
		assert.match(await toggle.innerText(), /Menu\s*·?\s*Members\s*10 pages/);
		assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
		assert.equal(await page.getByRole('navigation').getByRole('link', {name: 'Sources'}).isVisible(), false);
		await toggle.click();
		assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
		const links = page.getByRole('navigation').getByRole('link');
		assert.equal(await links.count(), 10);
		const xs = await links.evaluateAll((as) => as.map((a) => a.getBoundingClientRect()).map((r) => [Math.round(r.left), Math.round(r.right)]));
		assert.ok(xs.every(([l, r]) => l >= 0 && r <= 390), `every menu item is on screen: ${JSON.stringify(xs)}`);
		await t.check('the phone menu, open');
		await t.axe('the phone menu, open');
		await shot(page, 'nav-menu-open-390');
		await links.filter({hasText: 'Audit log'}).click();
		await heading(page, 'Audit log');
		assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
		assert.match(await toggle.innerText(), /Audit log/);
		await t.check('the phone menu took us there');
		await t.close();
	});

	// Every page as each role, at 1280 and 390 px: the text check, no
	// sideways scrolling, axe in light and dark mode, and a screenshot.
	for (const key of ['admin', 'writer', 'reader']) {
		test(`every page as the ${key === 'admin' ? 'admin' : key === 'writer' ? 'write member' : 'read member'}, at 1280 and 390 px, passes axe and the text check`, async () => {
			const role = {admin: 'admin', writer: 'write', reader: 'read'}[key];
			const t = await open();
			const {page} = t;
			await signIn(t, S[key]);
			for (const width of [1280, NARROW]) {
				await page.setViewportSize({width, height: width === NARROW ? 844 : 900});
				for (const [id, title] of ORG_PAGES) {
					await gotoOrgPage(page, id, title);
					await page.waitForLoadState('networkidle');
					const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
						.filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
						.map((el) => el.outerHTML.slice(0, 80)));
					assert.deepEqual(unlabelled, [], `${id}: every control has a label`);
					await t.check(`${id} as ${role} at ${width}px`);
					await t.axe(`${id} as ${role} at ${width}px`);
					await shot(page, `${role}-${id}-${width}`);
					if (role === 'admin') {
						await page.emulateMedia({colorScheme: 'dark'});
						await shot(page, `${role}-${id}-${width}-dark`);
						await page.emulateMedia({colorScheme: 'light'});
					}
				}
				await page.goto(`${BASE}/#/orgs`);
				await heading(page, 'Organizations');
				await t.check(`organizations as ${role} at ${width}px`);
				await t.axe(`organizations as ${role} at ${width}px`);
				await shot(page, `${role}-organizations-${width}`);
			}
			await t.close();
		});
	}

	test('signed out at 390 px: sign-in, sign-up and an invitation pass axe and the text check', async () => {
		const t = await open({width: NARROW, height: 844});
		const {page} = t;
		await page.goto(`${BASE}/#/o/${S.orgId}/members`);
		await heading(page, 'Sign in');
		await t.check('an org page, signed out');
		await t.axe('sign-in at 390 px');
		await shot(page, 'signin-390');
		await page.getByRole('link', {name: 'Create an account'}).click();
		await heading(page, 'Create your account');
		await t.axe('sign-up at 390 px');
		await shot(page, 'signup-390');
		// Sign in: the page asked for comes back.
		await page.getByRole('link', {name: 'Sign in'}).click();
		await heading(page, 'Sign in');
		await page.getByLabel('Email').fill(S.reader.email);
		await t.expecting('POST', /\/auth\/login$/, 401, async () => {
			await page.getByLabel('Password').fill('not the password');
			await page.getByRole('button', {name: 'Sign in'}).click();
			await page.getByRole('alert').filter({hasText: 'The email or password is not right.'}).waitFor();
		});
		await t.check('a wrong password');
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', {name: 'Sign in'}).click();
		await heading(page, 'Members');
		await t.check('signed in after a wrong password');
		await t.close();
	});
});

// userId(page, who): the user id of a member, from the API.
async function userId(page, who) {
	const r = await apiFetch(page, 'GET', `/orgs/${S.orgId}/members`);
	const m = r.body.items.find((x) => x.user.email === who.email);
	return m && m.user.id;
}
