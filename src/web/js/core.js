// core.js: the dashboard's shared state and navigation.
//
// state.me is the reply of GET /api/v1/me (null when signed out).  The
// caller's role in the current org comes from GET /orgs/{org} at every page
// render, so a role change shows up at the next navigation.  The role only
// decides which controls are drawn: the API stays the authority.

import {get, clearCsrf} from './api.js';

// me: undefined until the first GET /me, then the reply or null.
export const state = {me: undefined, after: null};

// loadMe(): refreshes state.me; null when not signed in.
export async function loadMe() {
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
export const PAGES = [
	{id: 'members', label: 'Members'},
	{id: 'invitations', label: 'Invitations', admin: true},
	{id: 'sources', label: 'Sources'},
	{id: 'integrations', label: 'Integrations'},
	{id: 'destinations', label: 'Destinations'},
	{id: 'connections', label: 'Connections'},
	{id: 'api-keys', label: 'API keys', admin: true},
	{id: 'settings', label: 'Settings & billing', admin: true},
	{id: 'audit', label: 'Audit log', admin: true},
	{id: 'review', label: 'Access review', admin: true},
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
