// api.js: the only door to the JSON API (/api/v1).
//
// Every call is a same-origin fetch with JSON bodies.  The CSRF token comes
// from /me, login, signup or a new-account invitation accept; it is sent on
// every unsafe method.  A failed call throws an ApiError that carries the
// API's error object ({code, message, field}) and the HTTP status; pages
// show humanError(err), never the code or the API's raw words.
//
// The session cookie is HttpOnly, so the page cannot see whether there is
// one.  It keeps a hint instead (localStorage "finicom.session"): set by
// any reply that carries a CSRF token (sign-in, sign-up, accepting with a
// new account, /me), cleared by signing out and by any 401.  Without the
// hint the dashboard does not ask /me at all: a signed-out visit makes no
// request that is bound to fail (no 401 in the console on every load).

const BASE = '/api/v1';
const HINT = 'finicom.session';
let csrf = null;

export class ApiError extends Error {
	constructor(status, body, headers) {
		const e = (body && body.error) || {};
		super(e.message || `request failed (HTTP ${status})`);
		this.status = status;
		this.code = e.code || 'http_' + status;
		this.field = e.field || null;
		this.body = body || {};
		const ra = headers && parseInt(headers.get('Retry-After') || '', 10);
		this.retryAfter = Number.isFinite(ra) ? ra : null;
	}
}

export const session = {
	hinted: () => localStorage.getItem(HINT) === '1',
	mark: (on) => (on ? localStorage.setItem(HINT, '1') : localStorage.removeItem(HINT)),
};

export function setCsrf(token) {
	if (token) csrf = token;
}

export function clearCsrf() {
	csrf = null;
}

// api(method, path, body?): the parsed JSON reply (null for 204).
// Throws ApiError for any status >= 400 and for network failures.
export async function api(method, path, body) {
	const opts = {method, credentials: 'same-origin', headers: {Accept: 'application/json'}};
	if (body !== undefined) {
		opts.headers['Content-Type'] = 'application/json';
		opts.body = JSON.stringify(body);
	}
	if (method !== 'GET' && csrf) opts.headers['X-CSRF-Token'] = csrf;
	let res;
	try {
		res = await fetch(BASE + path, opts);
	} catch (err) {
		throw new ApiError(0, {error: {code: 'network', message: 'could not reach the server'}});
	}
	let data = null;
	if (res.status !== 204) {
		const text = await res.text();
		if (text) {
			try {
				data = JSON.parse(text);
			} catch (err) {
				data = null;
			}
		}
	}
	if (res.status === 401) session.mark(false);
	if (!res.ok) throw new ApiError(res.status, data, res.headers);
	if (data && data.csrf_token) {
		setCsrf(data.csrf_token);
		session.mark(true);
	}
	return data;
}

export const get = (p) => api('GET', p);
export const post = (p, b) => api('POST', p, b === undefined ? {} : b);
export const patch = (p, b) => api('PATCH', p, b);
export const del = (p) => api('DELETE', p);

// query(obj): "?a=1&b=2" from the non-empty values of obj, or "".
export function query(obj) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
	const s = q.toString();
	return s ? '?' + s : '';
}

// org path helper: /orgs/{id}/rest
export const orgPath = (org, rest = '') => `/orgs/${encodeURIComponent(org)}${rest}`;

// getAll(path): every item of a keyset-paginated list (bounded to 20 pages).
export async function getAll(path, params = {}) {
	const items = [];
	let cursor = null;
	for (let i = 0; i < 20; i++) {
		const page = await get(path + query({...params, limit: 200, cursor}));
		items.push(...page.items);
		cursor = page.next_cursor;
		if (!cursor) break;
	}
	return items;
}

// ---------------------------------------------------------- error copy

// What people read for each error code.  The API's messages are written
// for developers (lower case, field names); where the code says enough,
// the dashboard says it in its own words.
const COPY = {
	network: 'Could not reach the server. Check your connection and try again.',
	unauthenticated: 'Your session has ended. Sign in again.',
	invalid_credentials: 'The email or password is not right.',
	csrf_failed: 'Your session changed in another tab. Reload the page and try again.',
	email_mismatch: 'This invitation is for another email address.',
	last_admin: 'An organization needs at least one admin: make someone else an admin first.',
	already_member: 'That person is already a member of this organization.',
	invitation_pending: 'That address already has a pending invitation. Resend it from the list of invitations instead.',
	email_taken: 'An account with this email already exists. Sign in instead.',
	not_pending: 'This invitation is no longer pending: it was accepted, canceled or has expired.',
	in_use: 'A connection still uses this. Change or delete that connection first.',
	not_found: 'This no longer exists: someone may have deleted it. Reload the page.',
	conflict: 'Someone changed this at the same moment. Reload the page and try again.',
	plan_required: 'This needs a trial or paid plan.',
	payload_too_large: 'That is too much to save at once.',
	unavailable: 'The service is not available right now. Try again in a moment.',
	internal: 'Something went wrong on the server. Try again in a moment.',
	gone: 'This link no longer works.',
	email_unverified: 'Verify your email address first: open the link in the email we sent you, or send a new one from the banner at the top.',
	already_verified: 'Your email address is verified already.',
	two_factor_required: 'This organization requires two-factor authentication: turn it on for your account first.',
};

// sentence(s): s with a capital first letter and a full stop.
export function sentence(s) {
	const t = String(s || '').trim();
	if (!t) return '';
	const u = t[0].toUpperCase() + t.slice(1);
	return /[.!?)]$/.test(u) ? u : u + '.';
}

// waitWords(seconds): "30 seconds", "5 minutes", "24 hours" (rounded up).
export function waitWords(secs) {
	if (secs < 120) return `${secs} seconds`;
	if (secs < 7200) return `${Math.ceil(secs / 60)} minutes`;
	return `${Math.ceil(secs / 3600)} hours`;
}

// humanError(err): one or two sentences for any error a call can throw.
export function humanError(err) {
	if (!(err instanceof ApiError)) return sentence(err && err.message ? err.message : 'Something went wrong.');
	if (err.code === 'rate_limited') {
		const wait = err.retryAfter;
		return wait ? `Too many attempts. Try again in ${waitWords(wait)}.`
			: 'Too many attempts. Wait a little and try again.';
	}
	if (COPY[err.code]) return COPY[err.code];
	// validation_failed, forbidden and the rest: the API's own words say
	// what is wrong, as a sentence; never a bare code.
	if (err.message && !/^[a-z_]+$/.test(err.message)) return sentence(err.message);
	if (err.status === 403) return 'Your role does not allow this.';
	return `Something went wrong (HTTP ${err.status || 'error'}). Try again.`;
}
