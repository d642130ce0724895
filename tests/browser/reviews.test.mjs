// reviews.test.mjs: the Access reviews page and the audit log's Export, in
// real Chromium through lib/harness.mjs (every check of flows.test.mjs:
// visible text, console, requests, axe, 390 px).
//
// Its own org: an admin, a writer and a reader signed up through the API,
// the two members added by the stack's superuser (psql, from dev.env).
// The admin starts a review, decides each row (keep, remove, change role)
// with notes,
// completes it and finds it in the history and in the audit log; a review
// that would leave no admin is refused and changes nothing; the audit log
// exports as CSV and NDJSON with its date range.

import {test, describe, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdirSync, readFileSync} from 'node:fs';
import {join, dirname} from 'node:path';
import {fileURLToPath} from 'node:url';
import {chromium} from 'playwright-core';
import {open as openWatched, shot as shotIn} from './lib/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.FINICOM_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const SHOTS = join(HERE, 'screenshots');
const CHROMIUM = process.env.FINICOM_CHROMIUM || process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const RUN = Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36);
const PASSWORD = 'correct horse battery staple';
const P = {
	admin: {name: 'Ava Reviewer', email: `ava-${RUN}@reviews.example.test`},
	writer: {name: 'Will Writer', email: `will-${RUN}@reviews.example.test`},
	reader: {name: 'Ruth Reader', email: `ruth-${RUN}@reviews.example.test`},
};
let org = null;
let browser;

// signup(who): POST /auth/signup from node; who.id, who.cookie, who.csrf.
async function signup(who) {
	const r = await fetch(`${BASE}/api/v1/auth/signup`, {method: 'POST', headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({name: who.name, email: who.email, password: PASSWORD})});
	assert.equal(r.status, 201, await r.clone().text());
	const body = await r.json();
	who.id = body.user.id;
	who.csrf = body.csrf_token;
	who.cookie = r.headers.get('set-cookie').split(';')[0];
}

async function apiAs(who, method, path, body) {
	const r = await fetch(`${BASE}/api/v1${path}`, {method, headers: {'Content-Type': 'application/json', Cookie: who.cookie,
		'X-CSRF-Token': who.csrf}, body: body === undefined ? undefined : JSON.stringify(body)});
	return {status: r.status, body: r.status === 204 ? null : await r.json()};
}

// psql(sql): one statement as the stack's superuser (PGHOST... from dev.env).
const psql = (sql) => execFileSync('psql', ['-X', '-q', '-tA', '-v', 'ON_ERROR_STOP=1', '-c', sql], {encoding: 'utf8'}).trim();

before(async () => {
	mkdirSync(SHOTS, {recursive: true});
	for (const who of Object.values(P)) await signup(who);
	const r = await apiAs(P.admin, 'POST', '/orgs', {name: `Reviewed ${RUN}`});
	assert.equal(r.status, 201);
	org = r.body;
	psql(`INSERT INTO finicom.memberships (org_id, user_id, role) VALUES ('${org.id}', '${P.writer.id}', 'write'), ('${org.id}', '${P.reader.id}', 'read')`);
	browser = await chromium.launch({executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run']});
});

after(async () => {
	if (browser) await browser.close();
});

const open = (opts) => openWatched(browser, BASE, opts);

async function heading(page, text) {
	await page.locator('main h1', {hasText: text}).waitFor();
	await page.locator('main:not([aria-busy])').waitFor();
}

async function signInTo(t, pageId, title) {
	const {page} = t;
	await page.goto(`${BASE}/#/signin`);
	await heading(page, 'Sign in');
	await page.getByLabel('Email').fill(P.admin.email);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', {name: 'Sign in'}).click();
	await heading(page, 'Members');
	await page.goto(`${BASE}/#/o/${org.id}/${pageId}`);
	await heading(page, title);
}

const row = (page, who) => page.locator(`#open-review tr[data-email="${who.email}"]`);
const decide = (page, who, label) => row(page, who).getByLabel(`Decision for ${who.name}`).selectOption({label});
const roleOf = (who) => psql(`SELECT coalesce((SELECT role::text FROM finicom.memberships WHERE org_id = '${org.id}' AND user_id = '${who.id}'), 'none')`);

describe('access reviews and the audit export', () => {
	test('an admin starts a review, decides each member, completes it and finds it in the history and the audit log', async () => {
		const t = await open();
		const {page} = t;
		await signInTo(t, 'review', 'Access reviews');
		assert.ok(await page.locator('nav a[data-page="review"][aria-current="page"]').count(), 'the menu marks Access reviews');
		await page.getByRole('heading', {name: 'Start a review'}).waitFor();
		assert.equal(await page.getByLabel('Remind admins after (days)').inputValue(), '90');
		await t.check('no review yet');
		await t.axe('access reviews, none yet');
		await page.getByRole('button', {name: 'Start review'}).click();
		await page.getByRole('heading', {name: 'Open review'}).waitFor();
		await page.getByText('Review started.').waitFor();
		assert.equal(await page.locator('#open-review tbody tr').count(), 3, 'every member is a row');
		assert.match(await page.locator('#open-review .progress').innerText(), /0 of 3 members decided/);
		assert.match(await row(page, P.writer).innerText(), /Will Writer[\s\S]*Write[\s\S]*never/);
		await t.check('the open review');
		await t.axe('the open review');
		await shotIn(page, SHOTS, 'reviews-open-1280');

		// Completing before deciding: the page says what is missing, nothing is sent.
		await page.getByRole('button', {name: 'Complete review'}).click();
		await page.getByText('Decide about every member first: 3 members are not decided yet.').waitFor();

		const saved = () => page.waitForResponse((r) => r.request().method() === 'PATCH' && /\/access-reviews\/[0-9a-f-]+\/items\//.test(r.url()));
		const noteOf = (who) => psql(`SELECT coalesce(note, '(none)') FROM finicom.access_review_items WHERE org_id = '${org.id}' AND user_id = '${who.id}' AND decision IS NOT NULL`);
		await decide(page, P.admin, 'Keep');
		await decide(page, P.writer, 'Remove');
		// A note on a decided row is saved on its own; one written before the
		// decision goes with it.
		let done = saved();
		await row(page, P.writer).getByLabel(`Note for ${P.writer.name}`).fill('Left the team in June');
		await row(page, P.writer).getByLabel(`Note for ${P.writer.name}`).press('Tab');
		assert.equal((await done).status(), 200);
		assert.equal(noteOf(P.writer), 'Left the team in June');
		await row(page, P.reader).getByLabel(`Note for ${P.reader.name}`).fill('Now edits the sources');
		await row(page, P.reader).getByLabel(`Note for ${P.reader.name}`).press('Tab');
		done = saved();
		await decide(page, P.reader, 'Change role to write');
		assert.equal((await done).status(), 200);
		assert.equal(noteOf(P.reader), 'Now edits the sources');
		await page.getByText('All 3 members are decided: the review can be completed.').waitFor();
		// Changing the decision keeps the note.
		done = saved();
		await decide(page, P.writer, 'Keep');
		await done;
		done = saved();
		await decide(page, P.writer, 'Remove');
		await done;
		assert.equal(noteOf(P.writer), 'Left the team in June');
		await t.check('every member decided');
		// The decisions are stored as they are chosen.
		await page.reload();
		await heading(page, 'Access reviews');
		assert.equal(await row(page, P.writer).getByLabel(`Decision for ${P.writer.name}`).inputValue(), 'remove');
		assert.equal(await row(page, P.reader).getByLabel(`Decision for ${P.reader.name}`).inputValue(), 'role:write');
		assert.equal(await row(page, P.writer).getByLabel(`Note for ${P.writer.name}`).inputValue(), 'Left the team in June');

		await page.getByRole('button', {name: 'Complete review'}).click();
		const dlg = page.getByRole('dialog', {name: 'Complete this access review?'});
		await dlg.waitFor();
		assert.match(await dlg.innerText(), /Remove Will Writer\.[\s\S]*Change the role of Ruth Reader to write\./);
		await t.axe('the completion dialog');
		await dlg.getByRole('button', {name: 'Complete review'}).click();
		await dlg.waitFor({state: 'detached'});
		await page.getByText('Review completed: 1 member removed, 1 role changed.').waitFor();
		await page.getByRole('heading', {name: 'Start a review'}).waitFor();
		assert.equal(roleOf(P.writer), 'none');
		assert.equal(roleOf(P.reader), 'write');
		const hist = page.locator('section[aria-labelledby="history-h"] tbody tr');
		assert.equal(await hist.count(), 1);
		assert.match(await hist.first().innerText(), /Ava Reviewer[\s\S]*Completed[\s\S]*3 of 3/);
		await hist.first().getByRole('button', {name: 'View decisions'}).click();
		const detail = page.locator('#review-detail');
		await detail.getByRole('heading', {name: /Review of .* \(completed\)/}).waitFor();
		assert.match(await detail.locator(`tr[data-email="${P.writer.email}"]`).innerText(), /Remove[\s\S]*by Ava Reviewer[\s\S]*Left the team in June/);
		assert.match(await detail.locator(`tr[data-email="${P.admin.email}"]`).innerText(), /Keep[\s\S]*none/);
		await t.check('the history');
		await t.axe('the history with its decisions');

		// The audit log tells it in sentences.
		await page.goto(`${BASE}/#/o/${org.id}/audit`);
		await heading(page, 'Audit log');
		const events = page.locator('ol.events');
		await events.getByText('Ava Reviewer completed an access review: 1 member removed, 1 role changed.').waitFor();
		// The writer is no member any more: named by the email the decision recorded.
		assert.ok(await events.getByText(`Ava Reviewer removed ${P.writer.email} (was write).`).count(), 'the removal is there');
		assert.ok(await events.getByText(`Ava Reviewer decided to remove ${P.writer.email} in an access review.`).count());
		assert.ok(await events.getByText('Ava Reviewer decided to change Ruth Reader\'s role to write in an access review.').count());
		await t.check('the audit log after the review');
		await t.close();
	});

	test('a review that would leave no admin is refused and changes nothing', async () => {
		const t = await open();
		const {page} = t;
		await signInTo(t, 'review', 'Access reviews');
		await page.getByRole('button', {name: 'Start review'}).click();
		await page.getByRole('heading', {name: 'Open review'}).waitFor();
		await decide(page, P.admin, 'Change role to read');
		await decide(page, P.reader, 'Keep');
		await page.getByText('All 2 members are decided: the review can be completed.').waitFor();
		await page.getByRole('button', {name: 'Complete review'}).click();
		const dlg = page.getByRole('dialog', {name: 'Complete this access review?'});
		await t.expecting('POST', /\/access-reviews\/[0-9a-f-]+\/complete$/, 409, async () => {
			await dlg.getByRole('button', {name: 'Complete review'}).click();
			await dlg.getByText('An organization needs at least one admin').waitFor();
		});
		await t.check('last_admin in words');
		await dlg.getByRole('button', {name: 'Cancel', exact: true}).click();
		await dlg.waitFor({state: 'detached'});
		assert.equal(roleOf(P.admin), 'admin');
		assert.equal(roleOf(P.reader), 'write');
		// Cancel the review: nothing applied, it is in the history.
		await page.getByRole('button', {name: 'Cancel review'}).click();
		const c = page.getByRole('dialog', {name: 'Cancel this access review?'});
		await c.getByRole('button', {name: 'Cancel review'}).click();
		await c.waitFor({state: 'detached'});
		try {
			await page.getByText('Review canceled. Nothing was changed.').waitFor();
		} catch (err) {
			await shotIn(page, SHOTS, 'reviews-cancel-failed');
			throw new Error(`${err.message}\n${await page.locator('main').innerText()}`);
		}
		assert.match(await page.locator('section[aria-labelledby="history-h"] tbody tr').first().innerText(), /Canceled/);
		assert.equal(roleOf(P.admin), 'admin');
		await t.check('canceled');
		await t.close();
	});

	test('the reminder interval is set on the page; a bad one is refused in words, before any request', async () => {
		const t = await open();
		const {page} = t;
		await signInTo(t, 'review', 'Access reviews');
		const days = page.getByLabel('Remind admins after (days)');
		const sent = [];
		page.on('request', (r) => r.method() === 'PATCH' && sent.push(r.url()));
		await days.fill('10');
		await page.getByRole('button', {name: 'Save'}).click();
		await page.locator('#review-interval .error', {hasText: 'Choose 0 to turn reminders off, or a number of days from 30 to 365.'}).waitFor();
		assert.equal(await days.getAttribute('aria-invalid'), 'true');
		assert.deepEqual(sent, [], 'nothing was sent');
		await days.fill('45');
		await page.getByRole('button', {name: 'Save'}).click();
		await page.getByText('Saved: a reminder after 45 days.').waitFor();
		assert.equal(psql(`SELECT access_review_interval_days FROM finicom.orgs WHERE id = '${org.id}'`), '45');
		await t.check('the interval saved');
		await t.close();
	});

	test('the audit log exports as CSV and NDJSON, with its date range', async () => {
		const t = await open();
		const {page} = t;
		await signInTo(t, 'audit', 'Audit log');
		const link = page.getByRole('link', {name: 'Export'});
		assert.match(await link.getAttribute('href'), new RegExp(`^/api/v1/orgs/${org.id}/audit-events/export\\?format=csv$`));
		await t.axe('the audit log with Export');
		let [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
		const csv = readFileSync(await download.path(), 'utf8');
		assert.match(download.suggestedFilename(), /^audit-events-.*\.csv$/);
		const lines = csv.split('\r\n');
		assert.equal(lines[0], 'id,at,action,actor_type,actor_id,actor_label,target_type,target_id,ip,request_id,details');
		assert.ok(lines.some((l) => l.includes(',access_review.completed,')), 'the review is in the file');
		assert.match(lines[1], /,org\.created,/, 'oldest first');

		// NDJSON for today only: the range goes into the link.
		await page.getByLabel('Export as').selectOption('ndjson');
		const today = new Date();
		const ymd = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
		await page.getByLabel('From').fill(ymd);
		await page.getByLabel('To').fill(ymd);
		const href = await link.getAttribute('href');
		assert.match(href, /format=ndjson&from=.*&to=/);
		[download] = await Promise.all([page.waitForEvent('download'), link.click()]);
		const events = readFileSync(await download.path(), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
		assert.ok(events.length >= 5, 'today\'s events');
		assert.equal(events[0].action, 'org.created');
		const api = await apiAs(P.admin, 'GET', `/orgs/${org.id}/audit-events?limit=200`);
		assert.deepEqual(events.map((e) => e.id), api.body.items.map((e) => e.id).reverse(), 'the same events as the log, oldest first');
		await t.check('exported');
		await t.close();
	});

	test('both pages at 390 px', async () => {
		const t = await open({width: 390});
		const {page} = t;
		await signInTo(t, 'review', 'Access reviews');
		await page.getByRole('button', {name: 'Start review'}).click();
		await page.getByRole('heading', {name: 'Open review'}).waitFor();
		await t.check('the open review at 390 px');
		await t.axe('the open review at 390 px');
		await shotIn(page, SHOTS, 'reviews-open-390');
		await page.goto(`${BASE}/#/o/${org.id}/audit`);
		await heading(page, 'Audit log');
		await page.getByRole('link', {name: 'Export'}).waitFor();
		await t.check('the audit log with Export at 390 px');
		await t.close();
	});
});
