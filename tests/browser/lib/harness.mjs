// harness.mjs: what every browser test sees, whatever its flow.
//
// open() gives a fresh Chromium context whose page is watched all the time:
//
// - the visible text (document.body.innerText: what is rendered, dialogs
//   included) must never contain null, undefined, NaN, [object Object] or a
//   raw API error code, and an alert must not read like a raw API message
//   (lower case first letter).  A checker inside the page runs before each
//   frame after any DOM change, so a state that shows for one frame is
//   caught too, not only the state a test happens to look at;
// - at widths under 720 px nothing may scroll sideways: not the document,
//   and no inner scroller either (a table in an overflow:auto box);
// - no console error, no page error, no failed request, no 5xx, and no 4xx
//   unless the test said it expects that answer (expecting());
// - no request leaves the page's origin.
//
// check(label) looks at the page now (text, overflow) and fails the test at
// once with label in the message; it is called after every step.  axe(label)
// runs axe-core inside the page in light and in dark mode and fails on any
// violation.  close() fails the test with whatever was seen meanwhile.

import assert from 'node:assert/strict';
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {createRequire} from 'node:module';
import {join} from 'node:path';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// The API's error codes (README, src/openapi.json): none is UI copy.
export const ERROR_CODES = ['invalid_json', 'validation_failed', 'unauthenticated', 'invalid_credentials',
	'plan_required', 'csrf_failed', 'email_mismatch', 'not_found', 'method_not_allowed', 'last_admin',
	'already_member', 'invitation_pending', 'email_taken', 'not_pending', 'in_use', 'payload_too_large',
	'rate_limited', 'unsupported_media_type', 'two_factor_required', 'email_unverified', 'already_verified', 'review_incomplete'];

// The checker that runs inside the page (an init script: every document,
// before the dashboard's own scripts).  It records into window.__seen.
function pageChecker(codes) {
	const bad = new RegExp(String.raw`\b(null|undefined|NaN)\b|\[object \w+\]|\bhttp_\d{3}\b|\b(` + codes.join('|') + String.raw`)\b`);
	const seen = [];
	const once = new Set();
	window.__seen = seen;
	const note = (kind, text) => {
		const key = kind + text;
		if (once.has(key)) return;
		once.add(key);
		seen.push(`${kind} on ${location.pathname}${location.hash}: ${text}`);
	};
	const around = (text, i) => JSON.stringify(text.slice(Math.max(0, i - 60), i + 60).replace(/\s+/g, ' '));
	const look = () => {
		if (!document.body) return;
		const text = document.body.innerText;
		const m = bad.exec(text);
		if (m) note('visible text', `${JSON.stringify(m[0])} in ${around(text, m.index)}`);
		for (const el of document.querySelectorAll('[role="alert"], .error')) {
			const t = el.innerText.trim();
			if (t && el.getClientRects().length && /^[a-z]/.test(t)) note('alert in raw API words', JSON.stringify(t.slice(0, 120)));
		}
		// Phones are 320 px and wider; Chromium briefly reports a 1 px window
		// while Playwright takes a full-page screenshot.
		if (window.innerWidth >= 320 && window.innerWidth < 720) {
			const over = document.documentElement.scrollWidth - window.innerWidth;
			if (over > 0) note(`sideways scrolling at ${window.innerWidth}px`, `the page is ${over}px wider than the window`);
			for (const el of document.querySelectorAll('body *')) {
				if (el.matches('input, select, textarea, option') || !el.getClientRects().length) continue;
				const ox = getComputedStyle(el).overflowX;
				if ((ox === 'auto' || ox === 'scroll') && el.scrollWidth > el.clientWidth + 1) {
					const tag = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).split(' ').join('.') : '');
					note(`sideways scrolling at ${window.innerWidth}px`, `${tag} scrolls by ${el.scrollWidth - el.clientWidth}px`);
				}
			}
		}
	};
	let queued = false;
	const soon = () => {
		if (queued) return;
		queued = true;
		requestAnimationFrame(() => {
			queued = false;
			look();
		});
	};
	window.__look = look;
	const start = () => {
		new MutationObserver(soon).observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true});
		window.addEventListener('resize', soon);
		soon();
	};
	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
	else start();
}

// open(browser, base, opts): {page, ctx, check, axe, expecting, problems, close}.
// opts: width (1280), height (900), colorScheme ('light').
export async function open(browser, base, opts = {}) {
	const width = opts.width || 1280;
	const origin = new URL(base).origin;
	const ctx = await browser.newContext({viewport: {width, height: opts.height || 900}, colorScheme: opts.colorScheme || 'light'});
	ctx.setDefaultTimeout(opts.timeout || 15000);
	await ctx.addInitScript(pageChecker, ERROR_CODES);
	const page = await ctx.newPage();
	const problems = [];
	const allowed = []; // {method, path: RegExp, status, hits}
	const allowedUrls = new Set(); // URLs whose 4xx was expected (their console line too)
	const consoleLoads = []; // "Failed to load resource" lines: judged once the answers are in
	const isAllowed = (method, url, status) => {
		const path = new URL(url).pathname;
		const a = allowed.find((x) => x.method === method && x.status === status && x.path.test(path));
		if (a) a.hits++;
		return !!a;
	};
	page.on('console', (m) => {
		if (m.type() !== 'error') return;
		const url = m.location() && m.location().url;
		if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()) && url) {
			consoleLoads.push({url, text: m.text()});
			return;
		}
		problems.push(`console error: ${m.text()}${url ? ` (${url})` : ''}`);
	});
	page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
	page.on('request', (r) => {
		const u = new URL(r.url());
		if ((u.protocol === 'http:' || u.protocol === 'https:') && u.origin !== origin) problems.push(`request leaves the origin: ${r.url()}`);
	});
	page.on('requestfailed', (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
	page.on('response', (r) => {
		const st = r.status();
		if (st < 400) return;
		const method = r.request().method();
		if (st < 500 && isAllowed(method, r.url(), st)) {
			allowedUrls.add(r.url());
			return;
		}
		problems.push(`HTTP ${st}: ${method} ${new URL(r.url()).pathname} (no test expected it)`);
	});

	// seen(): what the in-page checker recorded since the last call (every document).
	const seenInPage = async () => {
		try {
			return await page.evaluate(() => {
				if (window.__look) window.__look();
				const s = window.__seen ? window.__seen.splice(0) : [];
				return s;
			});
		} catch (err) {
			return []; // the page is navigating; the next check reads the new document
		}
	};

	const settle = async () => {
		problems.push(...(await seenInPage()));
		for (const c of consoleLoads.splice(0)) if (!allowedUrls.has(c.url)) problems.push(`console error: ${c.text} (${c.url})`);
	};
	const check = async (label) => {
		await settle();
		assert.deepEqual(problems, [], `after "${label}": the page shows or does nothing wrong`);
	};

	// axe(label): axe-core in the page, light and dark; restores the scheme.
	const axe = async (label) => {
		for (const scheme of ['light', 'dark']) {
			await page.emulateMedia({colorScheme: scheme});
			const res = await page.evaluate(async (src) => {
				if (!window.axe) (0, eval)(src);
				const r = await window.axe.run(document, {
					runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
					resultTypes: ['violations'],
				});
				return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
			}, AXE_SOURCE);
			assert.deepEqual(res, [], `axe-core on "${label}" in ${scheme} mode`);
		}
		await page.emulateMedia({colorScheme: opts.colorScheme || 'light'});
	};

	// expecting(method, path, status, fn): fn's steps may get that answer,
	// and must get it at least once.
	const expecting = async (method, path, status, fn) => {
		const a = {method, path, status, hits: 0};
		allowed.push(a);
		try {
			await fn();
		} finally {
			allowed.splice(allowed.indexOf(a), 1);
		}
		assert.ok(a.hits > 0, `expected ${method} ${path} to answer ${status}`);
	};

	return {
		page, ctx, check, axe, expecting, problems,
		close: async () => {
			await settle();
			await ctx.close();
			assert.deepEqual(problems, [], 'no visible null/undefined/NaN/raw codes, console errors, failed or unexpected requests, or sideways scrolling');
		},
	};
}

// shot(page, dir, name): a full-page screenshot, dir/name.png.
export const shot = (page, dir, name) => page.screenshot({path: join(dir, `${name}.png`), fullPage: true});

// launch(executablePath): the headless Chromium every test file drives.
export async function launch(executablePath) {
	const {chromium} = await import('playwright-core');
	return chromium.launch({
		executablePath,
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run'],
	});
}

// heading(page, text): waits for the page's <h1> to read text, and for
// <main> to be done loading.
export async function heading(page, text) {
	await page.locator('main h1', {hasText: text}).waitFor();
	await page.locator('main:not([aria-busy])').waitFor();
}

// verifyLinks(base, maildir, email, n): the links of the verification mails
// to email in the SMTP sink's Maildir, oldest first, polled until there are
// at least n (30 s at most); each on the stack under test (base), whatever
// public_url says.
export async function verifyLinks(base, maildir, email, n = 1) {
	return mailLinks(base, maildir, email, 'verify', n);
}

// mailLinks(base, maildir, email, kind, n): the {base}/{kind}/{token} links
// of the mails to email ('verify', 'reset'), oldest first, polled until there are n.
export async function mailLinks(base, maildir, email, kind, n = 1) {
	const dir = join(maildir, 'new');
	const re = new RegExp(`^\\s*(\\S*/${kind}/[A-Za-z0-9_-]+)\\s*$`, 'm');
	const deadline = Date.now() + 30000;
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
			const m = re.exec(text);
			if (m) found.push({at: statSync(f).mtimeMs, link: base + m[1].slice(m[1].indexOf(`/${kind}/`))});
		}
		if (found.length >= n) return found.sort((a, b) => a.at - b.at).map((x) => x.link);
		if (Date.now() > deadline) throw new Error(`fewer than ${n} ${kind} mails for ${email} in ${dir} after 30 s`);
		await new Promise((r) => setTimeout(r, 250));
	}
}
