// core.js: the dashboard's shared state, navigation and the words for roles.
//
// state.me is the reply of GET /api/v1/me (null when signed out).  The
// caller's role in the current org comes from GET /orgs/{org} at every page
// render, so a role change shows up at the next navigation.  The role only
// decides which controls are drawn: the API stays the authority.

import {get, clearCsrf, session} from './api.js';
import {list} from './dom.js';

// me: undefined until the first look, then the reply or null.
export const state = {me: undefined, after: null};

// loadMe(): refreshes state.me; null when not signed in.  Without the
// session hint (api.js) there is no session to ask about.
export async function loadMe() {
	if (!session.hinted()) {
		state.me = null;
		clearCsrf();
		return null;
	}
	try {
		state.me = await get('/me');
		if (!state.me.user) state.me = null; // an API key is not a dashboard user
	} catch (err) {
		if (err.status !== 401) throw err;
		state.me = null;
		clearCsrf();
	}
	return state.me;
}

export const canWrite = (role) => role === 'admin' || role === 'write';
export const isAdmin = (role) => role === 'admin';

// The org pages, in menu order; admin: only admins see and open them.
// (Invitations are part of Members, as the product page describes it.)
export const PAGES = [
	{id: 'members', label: 'Members'},
	{id: 'sources', label: 'Sources'},
	{id: 'integrations', label: 'Integrations'},
	{id: 'destinations', label: 'Destinations'},
	{id: 'connections', label: 'Connections'},
	{id: 'api-keys', label: 'API keys', admin: true},
	{id: 'settings', label: 'Settings & billing', admin: true},
	{id: 'audit', label: 'Audit log', admin: true},
	{id: 'alerts', label: 'Alerts', admin: true},
	{id: 'review', label: 'Access reviews', admin: true},
];

export const orgHash = (org, page = 'members') => `#/o/${org}/${page}`;

// go(hash): navigate inside the single page (also from /invite/... paths).
// A changed hash fires hashchange; otherwise the router gets finicom:route.
export function go(hash) {
	if (location.pathname === '/' && location.hash !== hash) {
		location.hash = hash;
		return;
	}
	history[location.pathname === '/' ? 'replaceState' : 'pushState'](null, '', '/' + hash);
	window.dispatchEvent(new Event('finicom:route'));
}

export const lastOrg = {
	get: () => localStorage.getItem('finicom.org'),
	set: (id) => localStorage.setItem('finicom.org', id),
};

// ------------------------------------------------------------------ roles

// ROLES: [value, label, one line on what the role may do], least first.
export const ROLES = [
	['read', 'Read', 'Views sources, integrations, destinations and connections; changes nothing.'],
	['write', 'Write', 'Also creates, changes and syncs sources, integrations, destinations and connections.'],
	['admin', 'Admin', 'Also manages members, invitations, settings, billing, API keys and the audit log.'],
];
export const roleLabel = (r) => (ROLES.find((x) => x[0] === r) || [r, r])[1];

const DATA = 'sources, integrations, destinations and connections';
const ADMIN_AREAS = ['members and invitations', 'settings and billing', 'API keys', 'the audit log'];
const rank = (r) => ROLES.findIndex((x) => x[0] === r);

// roleChange(who, from, to, self): what changes for who, in sentences.
// who is a name ("Rita Reader") or, with self, "You".
export function roleChange(who, from, to, self = false) {
	const [they, their] = self ? ['You', 'your'] : [who, 'their'];
	const out = [];
	if (rank(to) < rank(from)) {
		if (from === 'admin') out.push(`${they} will lose access to ${list(ADMIN_AREAS)}.`);
		if (rank(from) >= 1 && to === 'read') out.push(`${they} will no longer be able to create, change or sync ${DATA}; ${self ? 'you' : 'they'} can still view them.`);
		else if (to === 'write') out.push(`${they} can still create, change and sync ${DATA}.`);
		if (from === 'admin') out.push(self ? 'Only another admin can make you an admin again.' : `Only an admin can give ${their} admin role back.`);
	} else {
		if (rank(from) < 1) out.push(`${they} will be able to create, change and sync ${DATA}.`);
		if (to === 'admin') out.push(`${they} will be able to manage ${list(ADMIN_AREAS)}: full control of the organization.`);
	}
	return out.join(' ');
}
