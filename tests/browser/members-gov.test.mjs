// members-gov.test.mjs: the Members section's governance in real Chromium
// (issue 15, docs/members.md): one list of members and pending invitations
// with an "Access ends" column, the filters (search, role, inactive for N
// days), setting and clearing when a member's access ends, and the
// "Invite member" dialog taking one address or a pasted list (the batch
// endpoint) with a result per address.  Every step passes the harness's
// checks (lib/harness.mjs) and axe.
//
// The org and its people are made through the API from node (real mail:
// the admin's verification link and the invitation links come from the
// SMTP sink's Maildir), then the admin, and the reader, use the dashboard.
import {test, describe, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, statSync, mkdirSync} from 'node:fs';
import {join, dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';
import {open as openWatched, shot as shotIn} from './lib/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.FINICOM_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const MAILDIR = process.env.FINICOM_MAILDIR || resolve(HERE, '../../var/mail');
const SHOTS = join(HERE, 'screenshots');
const CHROMIUM = process.env.FINICOM_CHROMIUM || process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const RUN = 'g' + Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36);
const PASSWORD = 'correct horse battery staple';
const P = {
	admin: {name: 'Gina Governor', email: `gina-${RUN}@example.test`},
	writer: {name: 'Walt Writer', email: `walt-${RUN}@example.test`, role: 'write'},
	reader: {name: 'Rhea Reader', email: `rhea-${RUN}@example.test`, role: 'read'},
	pending: {email: `pat-${RUN}@example.test`, role: 'admin'},
	org: {name: `Gov ${RUN}`, id: null},
};

let browser;
const open = (opts) => openWatched(browser, BASE, opts);
const shot = (page, name) => shotIn(page, SHOTS, name);

// ------------------------------------------------------------ the API

// A node-side session: the cookie and CSRF token of one person.
class Api {
	constructor() {
		this.cookie = null;
		this.csrf = null;
	}

	async call(method, path, body) {
		const headers = {'Content-Type': 'application/json'};
		if (this.cookie) headers.Cookie = this.cookie;
		if (this.csrf && method !== 'GET') headers['X-CSRF-Token'] = this.csrf;
		const r = await fetch(BASE + '/api/v1' + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
		const set = r.headers.get('set-cookie');
		if (set && /finicom_session=([^;]*)/.test(set)) this.cookie = 'finicom_session=' + /finicom_session=([^;]*)/.exec(set)[1];
		const data = r.status === 204 ? null : await r.json();
		if (data && data.csrf_token) this.csrf = data.csrf_token;
		return {status: r.status, body: data};
	}
}

// The newest link of the given kind ("invite", "verify") in a mail to email.
async function mailLink(kind, email) {
	const dir = join(MAILDIR, 'new');
	const deadline = Date.now() + 30000;
	for (;;) {
		let best = null;
		for (const n of readdirSync(dir)) {
			const f = join(dir, n);
			const text = readFileSync(f, 'utf8');
			if (!text.toLowerCase().includes(email.toLowerCase())) continue;
			const m = new RegExp(`^\\s*\\S*/${kind}/([A-Za-z0-9_-]{43})\\s*$`, 'm').exec(text);
			const at = statSync(f).mtimeMs;
			if (m && (!best || at > best.at)) best = {at, token: m[1]};
		}
		if (best) return best.token;
		if (Date.now() > deadline) throw new Error(`no ${kind} mail for ${email} in ${dir}`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

const ok = (r, status) => assert.equal(r.status, status, JSON.stringify(r.body));

before(async () => {
	mkdirSync(SHOTS, {recursive: true});
	browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']});
	// The admin signs up, verifies the address, makes the org and invites
	// three people in one batch; two accept, the third stays pending.
	const admin = new Api();
	ok(await admin.call('POST', '/auth/signup', {email: P.admin.email, password: PASSWORD, name: P.admin.name}), 201);
	ok(await new Api().call('POST', `/auth/verify/${await mailLink('verify', P.admin.email)}`), 200);
	const org = await admin.call('POST', '/orgs', {name: P.org.name});
	ok(org, 201);
	P.org.id = org.body.id;
	const batch = await admin.call('POST', `/orgs/${P.org.id}/invitations/batch`,
		{items: [P.writer, P.reader, P.pending].map((x) => ({email: x.email, role: x.role}))});
	ok(batch, 200);
	assert.ok(batch.body.items.every((i) => i.invitation), JSON.stringify(batch.body));
	for (const who of [P.writer, P.reader]) {
		who.api = new Api();
		const r = await who.api.call('POST', `/invitations/${await mailLink('invite', who.email)}/accept`, {name: who.name, password: PASSWORD});
		ok(r, 201);
		who.id = r.body.user.id;
	}
	// The reader is active in the org now; the writer never was.
	ok(await P.reader.api.call('GET', `/orgs/${P.org.id}`), 200);
	P.adminApi = admin;
});

after(async () => {
	if (browser) await browser.close();
});

async function heading(page, text) {
	await page.locator('main h1', {hasText: text}).waitFor();
	await page.locator('main:not([aria-busy])').waitFor();
}

async function signIn(t, who) {
	const {page} = t;
	await page.goto(`${BASE}/#/signin`);
	await heading(page, 'Sign in');
	await page.getByLabel('Email').fill(who.email);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await heading(page, 'Members');
	await page.locator(`tr[data-email="${who.email}"]`).waitFor();
	await t.check(`${who.name} signs in`);
}

const rowsOf = (page) => page.locator('main tr[data-kind]').evaluateAll((trs) => trs.map((tr) => `${tr.dataset.kind} ${tr.dataset.email}`));

// ------------------------------------------------------------ the tests

describe('members governance', () => {
	test('the Members section lists members and pending invitations together, with when access ends', async () => {
		for (const width of [1280, 390]) {
			const t = await open({width});
			const {page} = t;
			await signIn(t, P.admin);
			const list = page.getByRole('table', {name: 'Members and pending invitations'});
			const headers = await list.getByRole('columnheader').allInnerTexts();
			if (width === 1280) {
				assert.deepEqual(headers.map((x) => x.toLowerCase()),
					['name', 'email', 'role', 'status', 'last active', 'access ends', 'joined', 'actions']);
			}
			assert.deepEqual(await rowsOf(page), [`member ${P.admin.email}`, `member ${P.writer.email}`, `member ${P.reader.email}`,
				`invitation ${P.pending.email}`], 'one list: the members, then the pending invitation');
			const inv = page.locator(`tr[data-kind="invitation"][data-email="${P.pending.email}"]`);
			assert.match(await inv.innerText(), /Invited[\s\S]*Admin[\s\S]*pending[\s\S]*expires in 7 days[\s\S]*not yet[\s\S]*no end[\s\S]*by Gina Governor/i);
			assert.match(await page.locator(`tr[data-email="${P.reader.email}"]`).innerText(), /Rhea Reader[\s\S]*Read[\s\S]*member[\s\S]*no end/i);
			await page.getByText('3 members and 1 pending invitation.').waitFor();
			await page.getByRole('button', {name: `Cancel invitation to ${P.pending.email}`}).waitFor();
			await t.check(`the one list at ${width} px`);
			await t.axe(`the one list at ${width} px`);
			await shot(page, `members-gov-list-${width}`);
			await t.close();
		}
	});

	test('filters: search, role and inactive for N days, each asking the API, combined and cleared', async () => {
		const t = await open();
		const {page} = t;
		await signIn(t, P.admin);
		const filters = page.getByRole('search', {name: 'Filter members'});
		const asked = [];
		page.on('request', (r) => {
			const u = new URL(r.url());
			if (u.pathname.endsWith(`/orgs/${P.org.id}/members`)) asked.push(u.search);
		});
		await filters.getByLabel('Search').fill('RHEA');
		await filters.getByRole('button', {name: 'Apply filters'}).click();
		await page.getByText('1 member and 0 pending invitations match the filters.').waitFor();
		assert.deepEqual(await rowsOf(page), [`member ${P.reader.email}`]);
		assert.ok(asked.some((q) => /[?&]q=RHEA(&|$)/.test(q)), asked.join(' '));
		await t.check('searched');
		await shot(page, 'members-gov-search-1280');

		// A search that finds the pending invitation by its address.
		await filters.getByLabel('Search').fill(`PAT-${RUN}`);
		await filters.getByRole('button', {name: 'Apply filters'}).click();
		await page.getByText('0 members and 1 pending invitation match the filters.').waitFor();
		assert.deepEqual(await rowsOf(page), [`invitation ${P.pending.email}`]);

		await filters.getByLabel('Search').fill('');
		await filters.getByLabel('Role').selectOption('write');
		await page.getByText('1 member and 0 pending invitations match the filters.').waitFor();
		assert.deepEqual(await rowsOf(page), [`member ${P.writer.email}`]);
		assert.ok(asked.some((q) => /[?&]role=write(&|$)/.test(q)), asked.join(' '));

		await filters.getByLabel('Role').selectOption('');
		await filters.getByLabel('Inactive for (days)').fill('1');
		await filters.getByRole('button', {name: 'Apply filters'}).click();
		await page.getByText('1 member and 0 pending invitations match the filters.').waitFor();
		assert.deepEqual(await rowsOf(page), [`member ${P.writer.email}`], 'the writer was never active; the admin and the reader are now');
		assert.ok(asked.some((q) => /[?&]inactive_days=1(&|$)/.test(q)), asked.join(' '));
		await t.check('inactive for a day');
		await t.axe('the filtered list');
		await shot(page, 'members-gov-inactive-1280');

		// Combined: read members inactive for a day: nobody.
		await filters.getByLabel('Role').selectOption('read');
		await page.getByText('Nobody matches these filters.').waitFor();
		await t.check('no match');

		// A bad number is said in words, without a request.
		const before = asked.length;
		await filters.getByLabel('Inactive for (days)').fill('0');
		await filters.getByRole('button', {name: 'Apply filters'}).click();
		await filters.getByRole('alert').filter({hasText: 'a number of days from 1 to 3650'}).waitFor();
		assert.equal(await filters.getByLabel('Inactive for (days)').getAttribute('aria-invalid'), 'true');
		assert.equal(asked.length, before, 'no request for a bad number');
		await t.check('a bad number of days');

		await filters.getByRole('button', {name: 'Clear filters'}).click();
		await page.getByText('3 members and 1 pending invitation.').waitFor();
		assert.equal((await rowsOf(page)).length, 4);
		await t.check('cleared');
		await t.close();
	});

	test('an admin sets when a member\'s access ends from the row, and clears it', async () => {
		const t = await open();
		const {page} = t;
		await signIn(t, P.admin);
		const row = () => page.locator(`tr[data-email="${P.reader.email}"]`);
		await page.getByRole('button', {name: `Set access end of ${P.reader.name}`}).click();
		let dlg = page.getByRole('dialog', {name: `When the access of ${P.reader.name} ends`});
		await dlg.waitFor();
		assert.equal(await dlg.getByLabel('No end date', {exact: false}).isChecked(), true, 'no end date yet');
		await dlg.getByLabel('No end date', {exact: false}).uncheck();
		// In the past: refused before any request, in words, the field marked.
		await dlg.getByLabel('Access ends').fill('2020-01-01T10:00');
		await dlg.getByRole('button', {name: 'Save'}).click();
		await dlg.getByRole('alert').filter({hasText: 'Choose a time in the future.'}).waitFor();
		assert.equal(await dlg.getByLabel('Access ends').getAttribute('aria-invalid'), 'true');
		await t.check('a time in the past');
		const inTwoDays = await page.evaluate(() => {
			const d = new Date(Date.now() + 2 * 86400000 + 3600000);
			const p = (n) => String(n).padStart(2, '0');
			return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
		});
		await dlg.getByLabel('Access ends').fill(inTwoDays);
		await t.axe('the access end dialog');
		await shot(page, 'members-gov-expiry-dialog-1280');
		await dlg.getByRole('button', {name: 'Save'}).click();
		await dlg.waitFor({state: 'detached'});
		await row().filter({hasText: 'in 2 days'}).waitFor();
		const item = await P.adminApi.call('GET', `/orgs/${P.org.id}/members/${P.reader.id}`);
		// Exactly the minute entered (a local time, as the browser and this test share the machine's zone).
		assert.equal(Date.parse(item.body.expires_at), new Date(inTwoDays).getTime(), `${item.body.expires_at} for ${inTwoDays}`);
		await t.check('the reader\'s access ends in 2 days');
		await shot(page, 'members-gov-expiry-set-1280');

		// The last admin without an end cannot get one: said in words.
		await page.getByRole('button', {name: `Set access end of ${P.admin.name}`}).click();
		dlg = page.getByRole('dialog', {name: 'When your access ends'});
		await dlg.getByLabel('No end date', {exact: false}).uncheck();
		await dlg.getByLabel('Access ends').fill(inTwoDays);
		await t.expecting('PATCH', /\/members\//, 409, async () => {
			await dlg.getByRole('button', {name: 'Save'}).click();
			await dlg.getByRole('alert').filter({hasText: 'at least one admin whose access does not end'}).waitFor();
		});
		await t.check('the last admin without an end');
		await dlg.getByRole('button', {name: 'Cancel'}).click();

		// Cleared again.
		await page.getByRole('button', {name: `Set access end of ${P.reader.name}`}).click();
		dlg = page.getByRole('dialog', {name: `When the access of ${P.reader.name} ends`});
		await dlg.getByText(/Access now ends in 2 days/).waitFor();
		await dlg.getByLabel('No end date', {exact: false}).check();
		assert.equal(await dlg.getByLabel('Access ends').isDisabled(), true);
		await dlg.getByRole('button', {name: 'Save'}).click();
		await dlg.waitFor({state: 'detached'});
		await row().filter({hasText: 'no end'}).waitFor();
		assert.equal((await P.adminApi.call('GET', `/orgs/${P.org.id}/members/${P.reader.id}`)).body.expires_at, null);
		await t.check('cleared');
		await t.close();
	});

	test('"Invite member" takes a pasted list, sends it as one batch and shows a result per address', async () => {
		const t = await open();
		const {page} = t;
		await signIn(t, P.admin);
		const sent = [];
		page.on('request', (r) => {
			if (r.method() === 'POST' && new URL(r.url()).pathname.includes('/invitations')) sent.push(new URL(r.url()).pathname);
		});
		const one = `ona-${RUN}@example.test`;
		const two = `tom-${RUN}@example.test`;
		await page.getByRole('button', {name: 'Invite member'}).click();
		const dlg = page.getByRole('dialog', {name: `Invite a member to ${P.org.name}`});
		await dlg.waitFor();
		await dlg.getByLabel('Email addresses').fill(`${one}, Walt Writer <${P.writer.email}>\n${two}; ${P.pending.email}\nnot-an-address@`);
		await dlg.getByRole('radio', {name: 'Write'}).check();
		await t.axe('the invite dialog with a list');
		await shot(page, 'members-gov-invite-list-1280');
		await dlg.getByRole('button', {name: 'Send invitation'}).click();
		await dlg.waitFor({state: 'detached'});
		const results = page.getByRole('table', {name: 'Invitation results'});
		await results.waitFor();
		assert.deepEqual(sent, [`/api/v1/orgs/${P.org.id}/invitations/batch`], 'one request for the list');
		await page.getByRole('heading', {name: 'Invitations sent: 2 of 5'}).waitFor();
		const result = (email) => results.locator(`tr[data-email="${email}"]`).innerText();
		assert.match(await result(one), /sent[\s\S]*Invited as Write; the link expires in 7 days\./);
		assert.match(await result(two), /sent[\s\S]*Invited as Write/);
		assert.match(await result(P.writer.email), /not sent[\s\S]*Already a member\./);
		assert.match(await result(P.pending.email), /not sent[\s\S]*pending invitation already/);
		assert.match(await result('not-an-address@'), /not sent[\s\S]*Email /);
		// The two new invitations are in the one list at once.
		for (const email of [one, two]) await page.locator(`tr[data-kind="invitation"][data-email="${email}"]`).waitFor();
		await t.check('the results of a batch');
		await t.axe('the results of a batch');
		await shot(page, 'members-gov-invite-results-1280');
		await page.getByRole('button', {name: 'Dismiss'}).click();
		await results.waitFor({state: 'detached'});

		// One address with an end of access: one plain invitation.
		const three = `tia-${RUN}@example.test`;
		sent.length = 0;
		await page.getByRole('button', {name: 'Invite member'}).click();
		await dlg.getByLabel('Email addresses').fill(three);
		const ends = await page.evaluate(() => {
			const d = new Date(Date.now() + 30 * 86400000);
			const p = (n) => String(n).padStart(2, '0');
			return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
		});
		await dlg.getByLabel('Access ends (optional)').fill(ends);
		await dlg.getByRole('button', {name: 'Send invitation'}).click();
		await page.getByText(`Invitation sent to ${three} as Read.`).waitFor();
		assert.deepEqual(sent, [`/api/v1/orgs/${P.org.id}/invitations`]);
		assert.match(await page.locator(`tr[data-kind="invitation"][data-email="${three}"]`).innerText(), /in (4 weeks|30 days|1 month)/);
		await t.check('one invitation with an end of access');
		await t.close();
	});

	test('a reader sees the list and when access ends, without invitations or controls', async () => {
		const t = await open({width: 390});
		const {page} = t;
		await signIn(t, P.reader);
		const list = page.getByRole('table', {name: 'Current members'});
		await list.waitFor();
		assert.deepEqual((await rowsOf(page)).map((r) => r.split(' ')[0]), ['member', 'member', 'member']);
		assert.equal(await page.getByRole('button', {name: /^(Change role|Set access end|Remove|Cancel invitation|Invite member)/}).count(), 0);
		const filters = page.getByRole('search', {name: 'Filter members'});
		await filters.getByLabel('Search').fill('walt');
		await filters.getByRole('button', {name: 'Apply filters'}).click();
		await page.getByText('1 member matches the filters.').waitFor();
		await t.check('the reader filters at 390 px');
		await t.axe('the reader\'s list');
		await shot(page, 'members-gov-read-390');
		await t.close();
	});
});
