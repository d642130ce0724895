// alerts.test.mjs: the Alerts page (src/web/js/alerts.js) in real Chromium,
// on alerts the database raised from real events: a member added in psql
// (db_change) and an admin API key made through the API
// (admin_api_key_created).  The admin finds "Alerts" in the menu, reads the
// two open alerts, acknowledges one through its dialog, filters by status,
// turns a rule off and finds it off after a reload; at 390 px the page fits;
// the read member has no Alerts link and is told the page is for admins.
// Every step passes the harness's checks (lib/harness.mjs) and axe.
//
// Setup goes through the API (fetch from node, with the session cookie) and
// psql (the stack's superuser, from dev.env) before the browser opens.

import {test, describe, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, mkdirSync} from 'node:fs';
import {join, dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {spawnSync} from 'node:child_process';
import {chromium} from 'playwright-core';
import {open as openWatched, shot as shotIn} from './lib/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.FINICOM_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const MAILDIR = process.env.FINICOM_MAILDIR || resolve(HERE, '../../var/mail');
const SHOTS = join(HERE, 'screenshots');
const CHROMIUM = process.env.FINICOM_CHROMIUM || process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const RUN = Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36);
const PASSWORD = 'alerts page battery staple';
const ADMIN = {name: 'Alma Alerts', email: `alma-${RUN}@example.test`};
const READER = {name: 'Rolf Reader', email: `rolf-${RUN}@example.test`};
let org = null;
let browser;

// api(who, method, path, body): a request as who (signed up below), keeping its cookie and CSRF token.
async function api(who, method, path, body) {
	const headers = {'Content-Type': 'application/json'};
	if (who.cookie) headers.Cookie = who.cookie;
	if (who.csrf && method !== 'GET') headers['X-CSRF-Token'] = who.csrf;
	const r = await fetch(BASE + '/api/v1' + path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
	const set = r.headers.getSetCookie ? r.headers.getSetCookie() : [];
	for (const c of set) if (c.startsWith('finicom_session=')) who.cookie = c.split(';')[0];
	const data = r.status === 204 ? null : await r.json();
	if (data && data.csrf_token) who.csrf = data.csrf_token;
	return {status: r.status, body: data};
}

// verifyLink(email): the verification link of the mail to email (polled).
async function verifyToken(email) {
	const dir = join(MAILDIR, 'new');
	for (const deadline = Date.now() + 30000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
		for (const n of readdirSync(dir)) {
			const text = readFileSync(join(dir, n), 'utf8');
			if (!text.toLowerCase().includes(email.toLowerCase())) continue;
			const m = /^\s*\S*\/verify\/([A-Za-z0-9_-]+)\s*$/m.exec(text);
			if (m) return m[1];
		}
	}
	throw new Error(`no verification mail for ${email}`);
}

function psql(sql, ...args) {
	const vars = args.flatMap((a, i) => ['-v', `p${i + 1}=${a}`]);
	const text = sql.replace(/\$(\d+)/g, (_, n) => `:'p${n}'`);
	const p = spawnSync('/usr/bin/psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-At', ...vars], {input: text + ';\n', encoding: 'utf8'});
	assert.equal(p.status, 0, p.stderr);
	return p.stdout.trim();
}

before(async () => {
	mkdirSync(SHOTS, {recursive: true});
	for (const who of [ADMIN, READER]) {
		const r = await api(who, 'POST', '/auth/signup', {email: who.email, password: PASSWORD, name: who.name});
		assert.equal(r.status, 201, JSON.stringify(r.body));
	}
	assert.equal((await api(ADMIN, 'POST', '/auth/verify/' + await verifyToken(ADMIN.email))).status, 200);
	const o = await api(ADMIN, 'POST', '/orgs', {name: `Alerted ${RUN}`});
	assert.equal(o.status, 201);
	org = o.body;
	// A member added in psql (db_change), and an admin API key (admin_api_key_created).
	psql("INSERT INTO finicom.memberships (org_id, user_id, role) SELECT $1, id, 'read' FROM finicom.users WHERE email = $2",
		org.id, READER.email);
	assert.equal((await api(ADMIN, 'POST', `/orgs/${org.id}/api-keys`, {name: 'deploy bot', role: 'admin'})).status, 201);
	const alerts = await api(ADMIN, 'GET', `/orgs/${org.id}/alerts?status=open`);
	assert.deepEqual(alerts.body.items.map((a) => a.rule).sort(), ['admin_api_key_created', 'db_change']);
	browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']});
});

after(async () => {
	if (browser) await browser.close();
});

async function heading(page, text) {
	await page.locator('main h1', {hasText: text}).waitFor();
	await page.locator('main:not([aria-busy])').waitFor();
}

async function signIn(t, who) {
	await t.page.goto(`${BASE}/#/signin`);
	await heading(t.page, 'Sign in');
	await t.page.getByLabel('Email').fill(who.email);
	await t.page.getByLabel('Password').fill(PASSWORD);
	await t.page.getByRole('button', {name: 'Sign in'}).click();
	await heading(t.page, 'Members');
	await t.check(`${who.name} signs in`);
}

describe('the Alerts page', () => {
	test('an admin reads, acknowledges and filters alerts, and turns a rule off', async () => {
		const t = await openWatched(browser, BASE, {width: 1280});
		const {page} = t;
		await signIn(t, ADMIN);
		await page.getByRole('navigation').getByRole('link', {name: 'Alerts'}).click();
		await heading(page, 'Alerts');
		const rows = page.locator('#alerts tbody tr');
		assert.equal(await rows.count(), 2);
		await page.getByText('2 alerts open, newest first.').waitFor();
		const dbRow = page.locator('#alerts tr[data-rule="db_change"]');
		assert.match(await dbRow.innerText(), /Change made in the database[\s\S]*member\.added by database role[\s\S]*Open/);
		assert.match(await page.locator('#alerts tr[data-rule="admin_api_key_created"]').innerText(), /admin API key "deploy bot" created by/);
		await t.check('two open alerts');
		await t.axe('alerts page');
		await shotIn(page, SHOTS, 'alerts-open-1280');

		await dbRow.getByRole('button', {name: /Acknowledge/}).click();
		const dlg = page.getByRole('dialog', {name: 'Acknowledge this alert?'});
		await dlg.waitFor();
		await t.check('the acknowledge dialog');
		await shotIn(page, SHOTS, 'alerts-acknowledge-dialog-1280');
		await dlg.getByRole('button', {name: 'Acknowledge'}).click();
		await dlg.waitFor({state: 'detached'});
		await page.getByText('Alert acknowledged: Change made in the database.').waitFor();
		await page.getByText('1 alert open, newest first.').waitFor();
		assert.equal(await rows.count(), 1);
		await t.check('acknowledged');

		await page.getByLabel('Show').selectOption('acknowledged');
		await page.locator('#alerts tr[data-status="acknowledged"]').waitFor();
		assert.match(await page.locator('#alerts tr[data-rule="db_change"]').innerText(), new RegExp(`Acknowledged[\\s\\S]*by ${ADMIN.email.replace('.', '\\.')}`));
		await page.getByLabel('Show').selectOption('all');
		await page.getByText('2 alerts, newest first.').waitFor();
		await t.check('filters');

		const box = page.getByRole('checkbox', {name: 'Change made in the database'});
		assert.equal(await box.isChecked(), true);
		await box.uncheck();
		await page.getByRole('button', {name: 'Save rules'}).click();
		await page.getByText('Rules saved. Off: Change made in the database.').waitFor();
		await t.check('a rule turned off');
		const rules = await api(ADMIN, 'GET', `/orgs/${org.id}/alert-rules`);
		assert.deepEqual(rules.body.rules.filter((r) => !r.enabled).map((r) => r.rule), ['db_change']);
		await page.reload();
		await heading(page, 'Alerts');
		assert.equal(await page.getByRole('checkbox', {name: 'Change made in the database'}).isChecked(), false);
		assert.equal(await page.getByRole('checkbox', {name: 'Repeated failed sign-ins'}).isChecked(), true);
		await t.check('after a reload');
		await t.close();
	});

	test('at 390 px the page fits, and the read member is kept out', async () => {
		const t = await openWatched(browser, BASE, {width: 390});
		await signIn(t, ADMIN);
		await t.page.goto(`${BASE}/#/o/${org.id}/alerts`);
		await heading(t.page, 'Alerts');
		await t.page.getByLabel('Show').selectOption('all');
		await t.page.locator('#alerts tr[data-rule="db_change"]').waitFor();
		await t.check('alerts at 390 px');
		await t.axe('alerts page at 390 px');
		await shotIn(t.page, SHOTS, 'alerts-390');
		await t.close();

		const r = await openWatched(browser, BASE, {width: 1280});
		await signIn(r, READER);
		assert.equal(await r.page.getByRole('navigation').getByRole('link', {name: 'Alerts'}).count(), 0, 'no Alerts link for a reader');
		await r.page.goto(`${BASE}/#/o/${org.id}/alerts`);
		await heading(r.page, 'Alerts');
		await r.page.getByText(`Only admins of Alerted ${RUN} can open this page. Your role is read.`).waitFor();
		await r.check('a reader on the Alerts page');
		await r.close();
	});
});
