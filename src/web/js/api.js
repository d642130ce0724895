// api.js: the only door to the JSON API (/api/v1).
//
// Every call is a same-origin fetch with JSON bodies.  The CSRF token comes
// from /me, login, signup or a new-account invitation accept; it is sent on
// every unsafe method.  A failed call throws an ApiError that carries the
// API's error object ({code, message, field}) and the HTTP status, so a page
// can show error.message inline and mark error.field.

const BASE = '/api/v1';
let csrf = null;

export class ApiError extends Error {
	constructor(status, body) {
		const e = (body && body.error) || {};
		super(e.message || `request failed (HTTP ${status})`);
		this.status = status;
		this.code = e.code || 'http_' + status;
		this.field = e.field || null;
		this.body = body || {};
	}
}

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
		throw new ApiError(0, {error: {code: 'network', message: 'could not reach the server; check your connection and try again'}});
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
	if (!res.ok) throw new ApiError(res.status, data);
	if (data && data.csrf_token) setCsrf(data.csrf_token);
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
