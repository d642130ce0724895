// totp.test.mjs: two-factor authentication in real Chromium, seen as a
// person sees it (docs/two-factor.md).
//
// A new admin signs up (enrolling waits for the verified address: the link
// of the real mail in the SMTP sink opens it) and creates an org; asking the
// org to require two-factor is refused in words (409) until they have it;
// they open "Two-factor authentication" from the user menu, see the QR code
// (read back by Debian's zbarimg as the enrolment's otpauth URI) and the
// setup key, confirm with a code from Debian's oathtool (an implementation
// nobody here wrote), save the recovery codes (Copy puts all ten on the
// clipboard), sign out, and sign in again: password, then a wrong code
// (said in words), then the right one.  A recovery code signs in too, and
// once only.  Then the org can require two-factor.  A password reset does
// not get around it: forgot password → the mail → the reset page → the
// code → signed in.  Every state passes the
// harness checks and axe at 1280 and 390 px.  Runs against the nginx of a
// deploy/dev stack (FINICOM_URL, FINICOM_MAILDIR).

import {test, describe, before, after} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import {join, dirname, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {open as openWatched, shot as shotIn, launch, heading, verifyLinks, mailLinks} from './lib/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.FINICOM_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const SHOTS = join(HERE, 'screenshots');
const MAILDIR = process.env.FINICOM_MAILDIR || resolve(HERE, '../../var/mail');
const CHROMIUM = process.env.FINICOM_CHROMIUM || process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const RUN = Date.now().toString(36) + Math.floor(Math.random() * 1e4).toString(36);
const PASSWORD = 'correct horse battery staple';
const ADMIN = {name: 'Tom Twofactor', email: `tom-${RUN}@example.test`};
const S = {orgId: null, secret: null, codes: null};

let browser;

before(async () => {
	mkdirSync(SHOTS, {recursive: true});
	browser = await launch(CHROMIUM);
});

after(async () => {
	if (browser) await browser.close();
});

const open = (opts) => openWatched(browser, BASE, opts);
const shot = (page, name) => shotIn(page, SHOTS, name);


// oathtool(secret, steps): the code of now + steps × 30 s, by Debian's oathtool.
function oathtool(secret, steps = 0) {
	const at = Math.floor(Date.now() / 1000) + 30 * steps;
	const out = execFileSync('oathtool', ['--totp', '-b', '-N', `@${at}`, secret], {encoding: 'utf8'}).trim();
	assert.match(out, /^\d{6}$/);
	return out;
}

// steady(): at least 4 s of the current 30-s step left (oathtool and the server agree on "now").
async function steady() {
	const left = 30 - ((Date.now() / 1000) % 30);
	if (left < 4) await new Promise((r) => setTimeout(r, (left + 0.3) * 1000));
}

// freshCode(): the code of the earliest step the server takes now: newer
// than the last one used (no replay), at most one step ahead of now.
let lastStep = 0;
async function freshCode() {
	await steady();
	let now = Math.floor(Date.now() / 30000);
	const want = Math.max(now, lastStep + 1);
	while (want > now + 1) {
		await new Promise((r) => setTimeout(r, 30000 - (Date.now() % 30000) + 300));
		now = Math.floor(Date.now() / 30000);
	}
	lastStep = want;
	return oathtool(S.secret, want - Math.floor(Date.now() / 30000));
}

async function signInPassword(t, who) {
	const {page} = t;
	await page.goto(`${BASE}/#/signin`);
	await heading(page, 'Sign in');
	await page.getByLabel('Email').fill(who.email);
	await page.getByLabel('Password').fill(PASSWORD);
	await page.getByRole('button', {name: 'Sign in'}).click();
}

describe('two-factor authentication', () => {
	test('an admin without two-factor cannot require it of the org: the settings say why', async () => {
		const t = await open();
		const {page} = t;
		await page.goto(`${BASE}/#/signup`);
		await heading(page, 'Create your account');
		await page.getByLabel('Your name').fill(ADMIN.name);
		await page.getByLabel('Email').fill(ADMIN.email);
		await page.getByLabel('Password').fill(PASSWORD);
		await page.getByRole('button', {name: 'Create account'}).click();
		await heading(page, 'Organizations');
		// Unverified, enrolling is refused in words; the link of the mail opens it.
		await page.goto(`${BASE}/#/account/security`);
		await heading(page, 'Two-factor authentication');
		await t.expecting('POST', /\/me\/totp$/, 403, async () => {
			await page.getByRole('button', {name: 'Set up two-factor authentication'}).click();
			await page.getByRole('alert').filter({hasText: 'Verify your email address first'}).waitFor();
		});
		await t.check('enrolment refused before the address is verified');
		const [link] = await verifyLinks(BASE, MAILDIR, ADMIN.email);
		await page.goto(link);
		await heading(page, 'Your email address is verified');
		await page.goto(`${BASE}/#/orgs`);
		await heading(page, 'Organizations');
		await page.getByLabel('Organization name').fill(`Strict ${RUN}`);
		await page.getByRole('button', {name: 'Create organization'}).click();
		await heading(page, 'Members');
		S.orgId = /#\/o\/([0-9a-f-]{36})\//.exec(page.url())[1];
		await page.goto(`${BASE}/#/o/${S.orgId}/settings`);
		await heading(page, 'Settings & billing');
		const card = page.getByRole('form', {name: 'Two-factor authentication'});
		const box = card.getByLabel('Require two-factor authentication of every member');
		assert.equal(await box.isChecked(), false);
		await box.check();
		await t.expecting('PATCH', new RegExp(`/orgs/${S.orgId}$`), 409, async () => {
			await card.getByRole('button', {name: 'Save'}).click();
			await card.getByRole('alert').filter({hasText: 'Turn on two-factor authentication for your own account first'}).waitFor();
		});
		assert.equal(await box.isChecked(), false, 'the switch shows what is stored: off');
		await t.check('require_2fa refused without two-factor');
		await t.axe('settings with the require-2FA refusal');
		await shot(page, 'totp-require-refused-1280');
		await t.close();
	});

	test('enrol from the user menu: QR code, setup key, a code from oathtool, recovery codes with Copy', async () => {
		const t = await open();
		const {page, ctx} = t;
		await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], {origin: BASE});
		await signInPassword(t, ADMIN);
		await heading(page, 'Members');
		await page.locator('#userbar').getByRole('link', {name: 'Two-factor authentication'}).click();
		await heading(page, 'Two-factor authentication');
		await page.getByRole('heading', {name: 'Two-factor authentication is off'}).waitFor();
		await t.check('the security page, off');
		await t.axe('security page, off');
		const enrolled = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/v1/me/totp');
		await page.getByRole('button', {name: 'Set up two-factor authentication'}).click();
		const uri = (await (await enrolled).json()).otpauth_uri;
		await page.getByRole('heading', {name: 'Scan this code with your authenticator app'}).waitFor();
		// the QR code: a canvas drawn here (no request), with a text alternative, not blank
		const qr = page.getByRole('img', {name: 'QR code of the setup key, for your authenticator app'});
		const dark = await qr.evaluate((c) => {
			const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
			let n = 0;
			for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
			return n / (d.length / 4);
		});
		assert.ok(dark > 0.2 && dark < 0.6, `the QR code has dark modules (${dark})`);
		// what a phone's camera reads: the canvas as it is on screen, decoded by Debian's zbarimg
		const png = join(SHOTS, 'totp-qr.png');
		await qr.screenshot({path: png});
		assert.equal(execFileSync('zbarimg', ['--raw', '-q', png], {encoding: 'utf8'}).trim(), uri,
			'the QR code reads back as the otpauth URI of the enrolment');
		assert.match(uri, /^otpauth:\/\/totp\/Finicom:/);
		S.secret = await page.locator('#totp-secret').getAttribute('data-secret');
		assert.match(S.secret, /^[A-Z2-7]{32}$/);
		assert.equal((await page.locator('#totp-secret').innerText()).replace(/\s/g, ''), S.secret, 'the setup key is shown, in groups');
		await t.check('the QR code and the setup key');
		await t.axe('security page, scanning');
		await shot(page, 'totp-enrol-1280');
		// a wrong code first: said in words, the field marked
		await steady();
		const wrong = String((Number(oathtool(S.secret)) + 1) % 1000000).padStart(6, '0');
		await page.getByLabel('Code from your app').fill(wrong);
		await t.expecting('POST', /\/me\/totp\/confirm$/, 400, async () => {
			await page.getByRole('button', {name: 'Turn on two-factor authentication'}).click();
			await page.getByRole('alert').filter({hasText: 'The code is not right'}).waitFor();
		});
		assert.equal(await page.getByLabel('Code from your app').getAttribute('aria-invalid'), 'true');
		await t.check('a wrong code at enrolment');
		await page.getByLabel('Code from your app').fill(await freshCode());
		await page.getByRole('button', {name: 'Turn on two-factor authentication'}).click();
		await page.getByRole('heading', {name: 'Save your recovery codes'}).waitFor();
		S.codes = await page.locator('#recovery-codes li').allInnerTexts();
		assert.equal(S.codes.length, 10);
		for (const c of S.codes) assert.match(c, /^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
		await page.getByRole('button', {name: 'Copy recovery codes'}).click();
		await page.getByRole('status').filter({hasText: 'Copied.'}).waitFor();
		assert.deepEqual((await page.evaluate(() => navigator.clipboard.readText())).trim().split('\n'), S.codes);
		await t.check('the recovery codes');
		await t.axe('security page, recovery codes');
		await shot(page, 'totp-recovery-codes-1280');
		await page.getByRole('button', {name: 'I saved them'}).click();
		await page.getByRole('heading', {name: 'Two-factor authentication is on'}).waitFor();
		await t.check('two-factor on');
		await t.axe('security page, on');
		await t.close();
	});

	test('sign out, then sign in with the second step: a wrong code said in words, then a code from oathtool', async () => {
		const t = await open();
		const {page} = t;
		await signInPassword(t, ADMIN);
		const step = page.getByRole('form', {name: 'Two-factor authentication'});
		await step.getByRole('heading', {name: 'Enter your code'}).waitFor();
		assert.equal(await page.evaluate(() => document.activeElement.name), 'code', 'the code field has the focus');
		await t.check('the second step');
		await t.axe('the second step');
		await shot(page, 'totp-second-step-1280');
		const right = await freshCode();
		await step.getByLabel('Code from your app, or a recovery code').fill(String((Number(right) + 5) % 1000000).padStart(6, '0'));
		await t.expecting('POST', /\/auth\/login\/totp$/, 401, async () => {
			await step.getByRole('button', {name: 'Verify and sign in'}).click();
			await step.getByRole('alert').filter({hasText: 'That code is not right'}).waitFor();
		});
		await t.check('a wrong second-step code');
		await step.getByLabel('Code from your app, or a recovery code').fill(right);
		await step.getByRole('button', {name: 'Verify and sign in'}).click();
		await heading(page, 'Members');
		await t.check('signed in with a code');
		// sign out from the menu, and in again with a recovery code; the same one again fails
		await page.getByRole('button', {name: 'Sign out'}).click();
		await heading(page, 'Sign in');
		await signInPassword(t, ADMIN);
		await step.getByLabel('Code from your app, or a recovery code').fill(S.codes[0]);
		await step.getByRole('button', {name: 'Verify and sign in'}).click();
		await heading(page, 'Members');
		await page.getByRole('button', {name: 'Sign out'}).click();
		await heading(page, 'Sign in');
		await signInPassword(t, ADMIN);
		await step.getByLabel('Code from your app, or a recovery code').fill(S.codes[0]);
		await t.expecting('POST', /\/auth\/login\/totp$/, 401, async () => {
			await step.getByRole('button', {name: 'Verify and sign in'}).click();
			await step.getByRole('alert').filter({hasText: 'That code is not right'}).waitFor();
		});
		await t.check('a used recovery code');
		await t.close();
	});

	test('at 390 px: the second step and the security page fit and pass axe', async () => {
		const t = await open({width: 390});
		const {page} = t;
		await signInPassword(t, ADMIN);
		const step = page.getByRole('form', {name: 'Two-factor authentication'});
		await step.getByRole('heading', {name: 'Enter your code'}).waitFor();
		await t.check('the second step at 390 px');
		await t.axe('the second step at 390 px');
		await shot(page, 'totp-second-step-390');
		await step.getByLabel('Code from your app, or a recovery code').fill(await freshCode());
		await step.getByRole('button', {name: 'Verify and sign in'}).click();
		await heading(page, 'Members');
		await page.goto(`${BASE}/#/account/security`);
		await heading(page, 'Two-factor authentication');
		await page.getByRole('heading', {name: 'Two-factor authentication is on'}).waitFor();
		await t.check('the security page at 390 px');
		await t.axe('the security page at 390 px');
		await shot(page, 'totp-security-390');
		await t.close();
	});

	test('with two-factor on, the admin requires it of the org', async () => {
		const t = await open();
		const {page} = t;
		await signInPassword(t, ADMIN);
		const step = page.getByRole('form', {name: 'Two-factor authentication'});
		await step.getByLabel('Code from your app, or a recovery code').fill(await freshCode());
		await step.getByRole('button', {name: 'Verify and sign in'}).click();
		await heading(page, 'Members');
		await page.goto(`${BASE}/#/o/${S.orgId}/settings`);
		await heading(page, 'Settings & billing');
		const card = page.getByRole('form', {name: 'Two-factor authentication'});
		await card.getByLabel('Require two-factor authentication of every member').check();
		await card.getByRole('button', {name: 'Save'}).click();
		await card.getByRole('status').filter({hasText: 'Two-factor authentication is now required.'}).waitFor();
		await t.check('require_2fa on');
		await page.reload();
		await heading(page, 'Settings & billing');
		assert.equal(await page.getByLabel('Require two-factor authentication of every member').isChecked(), true, 'stored');
		await t.close();
	});

	test('a password reset asks for the code too: forgot → mail → reset → code → signed in', async () => {
		const t = await open({width: 390});
		const {page} = t;
		await page.goto(`${BASE}/#/signin`);
		await heading(page, 'Sign in');
		await page.getByRole('link', {name: 'Forgot password?'}).click();
		await heading(page, 'Reset your password');
		await page.getByLabel('Email').fill(ADMIN.email);
		await page.getByRole('button', {name: 'Email me a link'}).click();
		await page.getByText(`If an account uses ${ADMIN.email}, a link to choose a new password is on its way`).waitFor();
		const [link] = await mailLinks(BASE, MAILDIR, ADMIN.email, 'reset');
		await page.goto(link);
		await heading(page, 'Choose a new password');
		await page.getByLabel('New password', {exact: true}).fill(`${PASSWORD} ${RUN}`);
		await page.getByRole('button', {name: 'Set password and sign in'}).click();
		// the password is set, but the mailbox alone does not sign in: the second step
		const step = page.getByRole('form', {name: 'Two-factor authentication'});
		await step.getByRole('heading', {name: 'Enter your code'}).waitFor();
		await step.getByText('Your new password is set.').waitFor();
		assert.equal((await page.context().cookies()).filter((c) => c.name === 'finicom_session').length, 0,
			'no session before the code');
		await t.check('the reset\'s second step');
		await t.axe('the reset\'s second step');
		await shot(page, 'totp-reset-second-step-390');
		await step.getByLabel('Code from your app, or a recovery code').fill(await freshCode());
		await step.getByRole('button', {name: 'Verify and sign in'}).click();
		await heading(page, 'Members');
		await t.check('signed in after the reset and the code');
		await t.close();
	});
});
