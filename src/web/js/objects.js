// objects.js: the data pages: Sources, Integrations, Destinations (one
// generic page, objectsPage(kind)) and Connections.
//
// Words: a "secret key" is a config key whose name, with _ and - dropped and
// letters lowercased, contains password, passwd, passphrase, secret, token,
// apikey, accesskey, privatekey or credential (the API's rule).  The API never returns its value
// (it sends "********") and keeps the stored value when "********" comes
// back, so the form shows such a value as •••• and sends "********" unless
// the user typed a new one.  Read members get no create/edit/delete control.

import {post, patch, del, get, getAll, orgPath} from './api.js';
import {h, put, swap, say, field, ctlOf, errorBox, noticeBox, busy, table, timeEl, fmtTime, badge, nextId,
	confirmDialog, showError, showNotice, clearError, clearNotice, announce} from './dom.js';
import {canWrite, isAdmin, orgHash} from './core.js';

export const MASK = '********';
const SECRET_RE = /password|passwd|passphrase|secret|token|apikey|accesskey|privatekey|credential/;
export const isSecretKey = (k) => SECRET_RE.test(String(k).replace(/[_-]/g, '').toLowerCase());

const KINDS = {
	sources: {one: 'source', types: ['postgres', 'mysql', 'stripe', 'salesforce', 'hubspot', 'shopify', 'http']},
	integrations: {one: 'integration', types: ['slack', 'dbt', 'webhook', 'pagerduty', 'github']},
	destinations: {one: 'destination', types: ['s3', 'bigquery', 'snowflake', 'postgres', 'redshift', 'gcs']},
};

// configView(config): the config as a definition list, secrets as ••••.
function configView(config) {
	const keys = Object.keys(config || {});
	if (!keys.length) return h('span', {class: 'muted'}, 'no config');
	return h('dl', {class: 'kv'}, keys.map((k) => {
		const v = config[k];
		const secret = isSecretKey(k) || v === MASK;
		const text = secret ? '••••' : typeof v === 'string' ? v : JSON.stringify(v);
		return [h('dt', {}, k), h('dd', {class: secret ? 'secret' : '', title: secret ? 'secret: never shown' : text},
			text.length > 60 ? text.slice(0, 57) + '…' : text)];
	}));
}

// configEditor(config): {el, read()}; read() returns the config object to
// send or throws an Error with a .field for the form.
function configEditor(config) {
	const rows = h('div', {class: 'kvrows'});
	const addRow = (key = '', value = '', stored = false) => {
		const n = rows.children.length + 1;
		const kid = nextId('k');
		const vid = nextId('v');
		const json = value !== '' && typeof value !== 'string';
		const k = h('input', {id: kid, value: key, autocomplete: 'off', spellcheck: 'false', class: 'kkey'});
		const v = h('input', {id: vid, autocomplete: 'off', spellcheck: 'false', class: 'kval',
			value: stored ? '' : json ? JSON.stringify(value) : value});
		const tag = h('span', {class: 'badge b-secret', hidden: true}, 'secret');
		const setType = () => {
			const secret = isSecretKey(k.value.trim());
			v.type = secret ? 'password' : 'text';
			v.autocomplete = secret ? 'new-password' : 'off';
			tag.hidden = !secret;
			v.placeholder = secret && stored && k.value.trim() === key ? '•••• (unchanged unless you type a new value)' : '';
		};
		k.addEventListener('input', setType);
		const rm = h('button', {type: 'button', class: 'secondary small', 'aria-label': say`Remove config row ${n}`}, 'Remove');
		const row = h('div', {class: 'kvrow'},
			h('div', {class: 'field'}, h('label', {for: kid}, say`Key ${n}`), k),
			h('div', {class: 'field'}, h('label', {for: vid}, say`Value ${n} `, tag), v),
			rm);
		row._read = () => {
			const name = k.value.trim();
			if (!name) return null;
			if (stored && name === key && v.value === '') return [name, MASK];
			if (stored && name !== key && v.value === '') {
				const e = new Error(say`Type the value of ${name}: a secret value cannot move to a new key.`);
				e.el = v;
				throw e;
			}
			if (json) {
				try {
					return [name, JSON.parse(v.value)];
				} catch (err) {
					return [name, v.value];
				}
			}
			return [name, v.value];
		};
		rm.addEventListener('click', () => {
			const next = row.nextElementSibling || row.previousElementSibling;
			row.remove();
			(next ? next.querySelector('input') : add).focus();
		});
		setType();
		put(rows, row);
		return k;
	};
	for (const [k, v] of Object.entries(config || {})) addRow(k, v, v === MASK);
	if (!rows.children.length) addRow();
	const add = h('button', {type: 'button', class: 'secondary small'}, '+ Add key');
	add.addEventListener('click', () => addRow().focus());
	const el = h('fieldset', {class: 'config'}, h('legend', {}, 'Configuration'),
		h('p', {class: 'hint'}, 'Keys with password, secret, token, api key, access key, private key or credential in their name are secrets: stored encrypted and never shown again.'),
		rows, add);
	const read = () => {
		const out = {};
		for (const row of rows.children) {
			const kv = row._read();
			if (kv) out[kv[0]] = kv[1];
		}
		return out;
	};
	return {el, read};
}

// objectsPage(kind): the page renderer for sources/integrations/destinations.
export function objectsPage(kind) {
	const K = KINDS[kind];
	return async function render(main, ctx) {
		const write = canWrite(ctx.role);
		const items = await getAll(orgPath(ctx.org.id, `/${kind}`));
		const box = h('div', {}, errorBox(), noticeBox());
		const formSlot = h('div');

		const openForm = (obj, opener) => {
			const name = field('Name', {name: 'name', required: true, maxlength: 200, value: obj ? obj.name : ''});
			const listId = nextId('types');
			const type = field('Type', {name: 'type', required: true, maxlength: 40, list: listId, autocomplete: 'off',
				value: obj ? obj.type : '', spellcheck: 'false'}, {hint: 'A short lowercase word, such as ' + K.types.slice(0, 3).join(', ') + '.'});
			const cfg = configEditor(obj ? obj.config : {});
			const title = obj ? say`Edit ${K.one} ${obj.name}` : say`New ${K.one}`;
			const hid = nextId('h');
			const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
			const form = h('form', {class: 'card', 'aria-labelledby': hid, 'data-form': K.one},
				h('h2', {id: hid}, title), errorBox(),
				h('div', {class: 'row'}, name, type),
				h('datalist', {id: listId}, K.types.map((t) => h('option', {value: t}))),
				cfg.el,
				h('div', {class: 'actions'}, cancel, h('button', {type: 'submit'}, obj ? 'Save changes' : say`Create ${K.one}`)));
			cancel.addEventListener('click', () => {
				swap(formSlot);
				if (opener && opener.isConnected) opener.focus();
			});
			form.addEventListener('submit', (e) => {
				e.preventDefault();
				let config;
				try {
					config = cfg.read();
				} catch (err) {
					showError(form, err);
					if (err.el) err.el.focus();
					return;
				}
				busy(form, async () => {
					const body = {name: ctlOf(name).value.trim(), type: ctlOf(type).value.trim(), config};
					const saved = obj
						? await patch(orgPath(ctx.org.id, `/${kind}/${obj.id}`), body)
						: await post(orgPath(ctx.org.id, `/${kind}`), body);
					await ctx.rerender();
					announce(say`${cap(K.one)} ${saved.name} ${obj ? 'saved' : 'created'}.`);
				});
			});
			swap(formSlot, form);
			ctlOf(name).focus();
		};

		const actions = (o) => {
			if (!write) return '';
			const ed = h('button', {type: 'button', class: 'secondary small', 'aria-label': say`Edit ${o.name}`}, 'Edit');
			ed.addEventListener('click', () => openForm(o, ed));
			const rm = h('button', {type: 'button', class: 'danger small', 'aria-label': say`Delete ${o.name}`}, 'Delete');
			rm.addEventListener('click', () => deleteObject(ctx, kind, K.one, o, rm, box));
			return h('div', {class: 'rowactions'}, ed, rm);
		};
		const cols = [
			{label: 'Name', cell: (o) => o.name},
			{label: 'Type', cell: (o) => h('code', {}, o.type)},
			{label: 'Configuration', cell: (o) => configView(o.config)},
			{label: 'Updated', cell: (o) => timeEl(o.updated_at || o.created_at)},
		];
		if (write) cols.push({label: 'Actions', cell: actions});
		let create = null;
		if (write) {
			create = h('button', {type: 'button', class: 'create'}, say`New ${K.one}`);
			create.addEventListener('click', () => openForm(null, create));
		}
		put(main,
			h('p', {class: 'lead'}, readOnlyNote(ctx, kind)),
			create ? h('p', {class: 'toolbar'}, create) : null,
			formSlot, box,
			table(kind, cols, items, {empty: say`No ${kind} yet.`, rowAttrs: (o) => ({'data-name': o.name})}));
	};
}

const readOnlyNote = (ctx, kind) => (canWrite(ctx.role)
	? say`The ${kind} of ${ctx.org.name}.`
	: say`The ${kind} of ${ctx.org.name}. Your role (read) can view them but not change them.`);

const cap = (s) => s[0].toUpperCase() + s.slice(1);

async function deleteObject(ctx, kind, one, o, button, box) {
	clearError(box);
	clearNotice(box);
	const what = kind === 'connections' ? 'Its runs stay in the audit log; scheduled syncs stop.'
		: 'A connection that uses it must be changed or deleted first.';
	const ok = await confirmDialog(say`Delete ${one} ${o.name}?`, say`${what} This cannot be undone.`, say`Delete ${one}`, {
		returnFocus: button, cancelLabel: say`Keep ${one}`,
		onSubmit: () => del(orgPath(ctx.org.id, `/${kind}/${o.id}`)).then(() => true),
	});
	if (!ok) return;
	await ctx.rerender();
	announce(say`${cap(one)} ${o.name} deleted.`);
}

// ------------------------------------------------------------ connections

const SCHEDULE_RE = /^every (\d+) minutes$/;

export async function connectionsPage(main, ctx) {
	const write = canWrite(ctx.role);
	const base = orgPath(ctx.org.id, '');
	const [conns, sources, dests, integs, members] = await Promise.all(
		['connections', 'sources', 'destinations', 'integrations', 'members'].map((k) => getAll(`${base}/${k}`)));
	const byId = new Map([...sources, ...dests, ...integs].map((o) => [o.id, o]));
	const nameOf = (id) => (byId.get(id) ? byId.get(id).name : 'a deleted object');
	const people = new Map(members.map((m) => [m.user.id, m.user.name || m.user.email]));
	const box = h('div', {}, errorBox(), noticeBox());
	const formSlot = h('div');

	const openForm = (c, opener) => {
		if (!sources.length || !dests.length) {
			swap(formSlot, h('p', {class: 'notice', role: 'status'}, 'A connection needs a source and a destination: create them first on the ',
				h('a', {href: '/' + orgHash(ctx.org.id, 'sources')}, 'Sources'), ' and ',
				h('a', {href: '/' + orgHash(ctx.org.id, 'destinations')}, 'Destinations'), ' pages.'));
			return;
		}
		const name = field('Name', {name: 'name', required: true, maxlength: 200, value: c ? c.name : ''});
		const src = field('Source', {name: 'source_id', required: true, value: c ? c.source_id : sources[0].id},
			{tag: 'select', options: sources.map((s) => [s.id, say`${s.name} (${s.type})`])});
		const dst = field('Destination', {name: 'destination_id', required: true, value: c ? c.destination_id : dests[0].id},
			{tag: 'select', options: dests.map((s) => [s.id, say`${s.name} (${s.type})`])});
		const chosen = new Set(c ? c.integration_ids : []);
		const integBoxes = integs.map((i) => field(say`${i.name} (${i.type})`, {type: 'checkbox', name: 'integration_ids', value: i.id, checked: chosen.has(i.id)}));
		const integ = h('fieldset', {class: 'checks', name: 'integration_ids'}, h('legend', {}, 'Integrations'),
			integs.length ? integBoxes : h('p', {class: 'hint'}, 'No integrations yet.'));
		const m = c && SCHEDULE_RE.exec(c.schedule);
		const sid = nextId('sch');
		const manual = h('input', {type: 'radio', name: sid, id: sid + 'm', value: 'manual', checked: !m});
		const every = h('input', {type: 'radio', name: sid, id: sid + 'e', value: 'every', checked: !!m});
		const minutes = h('input', {type: 'number', id: sid + 'n', name: 'schedule', min: 5, max: 1440, value: m ? m[1] : '60',
			inputmode: 'numeric', class: 'num', disabled: !m});
		const sync = () => {
			minutes.disabled = !every.checked;
		};
		manual.addEventListener('change', sync);
		every.addEventListener('change', sync);
		const sched = h('fieldset', {class: 'schedule'}, h('legend', {}, 'Schedule'),
			h('div', {class: 'field check'}, manual, h('label', {for: sid + 'm'}, 'Manual (only when someone presses Sync)')),
			h('div', {class: 'field check'}, every, h('label', {for: sid + 'e'}, 'Every'),
				h('label', {for: sid + 'n', class: 'sr-only'}, 'Minutes between syncs'), minutes, h('span', {'aria-hidden': 'true'}, 'minutes')),
			h('p', {class: 'hint'}, '5 to 1440 minutes.'));
		const enabled = field('Enabled', {type: 'checkbox', name: 'enabled', checked: c ? c.enabled : true});
		const hid = nextId('h');
		const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
		const form = h('form', {class: 'card', 'aria-labelledby': hid, 'data-form': 'connection'},
			h('h2', {id: hid}, c ? say`Edit connection ${c.name}` : 'New connection'), errorBox(),
			name, h('div', {class: 'row'}, src, dst), integ, sched, enabled,
			h('div', {class: 'actions'}, cancel, h('button', {type: 'submit'}, c ? 'Save changes' : 'Create connection')));
		cancel.addEventListener('click', () => {
			swap(formSlot);
			if (opener && opener.isConnected) opener.focus();
		});
		form.addEventListener('submit', (e) => {
			e.preventDefault();
			busy(form, async () => {
				const body = {
					name: ctlOf(name).value.trim(),
					source_id: ctlOf(src).value,
					destination_id: ctlOf(dst).value,
					integration_ids: integBoxes.map(ctlOf).filter((x) => x.checked).map((x) => x.value),
					schedule: every.checked ? `every ${parseInt(minutes.value, 10)} minutes` : 'manual',
					enabled: ctlOf(enabled).checked,
				};
				if (c) await patch(`${base}/connections/${c.id}`, body);
				else await post(`${base}/connections`, body);
				await ctx.rerender();
			});
		});
		swap(formSlot, form);
		ctlOf(name).focus();
	};

	const runsSlot = h('div');
	const showRuns = async (c, button) => {
		clearError(box);
		try {
			const page = await get(`${base}/connections/${c.id}/runs?limit=10`);
			const close = h('button', {type: 'button', class: 'secondary small'}, 'Close');
			close.addEventListener('click', () => {
				swap(runsSlot);
				button.focus();
			});
			swap(runsSlot, h('section', {class: 'card', 'aria-labelledby': 'runs-h'},
				h('div', {class: 'sectionhead'}, h('h2', {id: 'runs-h'}, say`Recent runs of ${c.name}`), close),
				table('Runs', [
					{label: 'Requested', cell: (r) => timeEl(r.requested_at)},
					{label: 'Status', cell: (r) => badge(r.status)},
					{label: 'Requested by', cell: (r) => nameOrId(r.requested_by)},
				], page.items, {empty: 'No runs yet.'})));
			close.focus();
		} catch (err) {
			showError(box, err);
		}
	};
	const nameOrId = (id) => (id ? people.get(id) || 'a former member or an API key' : h('span', {class: 'muted'}, 'unknown'));

	const actions = (c) => {
		const out = [];
		if (write) {
			const s = h('button', {type: 'button', class: 'small', 'aria-label': say`Sync ${c.name}`}, 'Sync');
			s.addEventListener('click', () => requestSync(ctx, c, s, box));
			out.push(s);
		}
		const r = h('button', {type: 'button', class: 'secondary small', 'aria-label': say`Runs of ${c.name}`}, 'Runs');
		r.addEventListener('click', () => showRuns(c, r));
		out.push(r);
		if (write) {
			const ed = h('button', {type: 'button', class: 'secondary small', 'aria-label': say`Edit ${c.name}`}, 'Edit');
			ed.addEventListener('click', () => openForm(c, ed));
			const rm = h('button', {type: 'button', class: 'danger small', 'aria-label': say`Delete ${c.name}`}, 'Delete');
			rm.addEventListener('click', () => deleteObject(ctx, 'connections', 'connection', c, rm, box));
			out.push(ed, rm);
		}
		return h('div', {class: 'rowactions'}, out);
	};
	let create = null;
	if (write) {
		create = h('button', {type: 'button', class: 'create'}, 'New connection');
		create.addEventListener('click', () => openForm(null, create));
	}
	put(main,
		h('p', {class: 'lead'}, readOnlyNote(ctx, 'connections'), ' A connection moves data from a source to a destination, through optional integrations.'),
		create ? h('p', {class: 'toolbar'}, create) : null,
		formSlot, box, runsSlot,
		table('Connections', [
			{label: 'Name', cell: (c) => c.name},
			{label: 'From → to', cell: (c) => say`${nameOf(c.source_id)} → ${nameOf(c.destination_id)}`},
			{label: 'Integrations', cell: (c) => (c.integration_ids.length ? c.integration_ids.map(nameOf).join(', ') : h('span', {class: 'muted'}, 'none'))},
			{label: 'Schedule', cell: (c) => c.schedule},
			{label: 'Enabled', cell: (c) => (c.enabled ? badge('enabled') : badge('disabled'))},
			{label: 'Actions', cell: actions},
		], conns, {empty: 'No connections yet.', rowAttrs: (c) => ({'data-name': c.name})}));
}

// requestSync: 202 queued, or the plan message for 402 plan_required.
async function requestSync(ctx, c, button, box) {
	clearError(box);
	clearNotice(box);
	box.querySelector('.plan')?.remove();
	button.disabled = true;
	try {
		const run = await post(orgPath(ctx.org.id, `/connections/${c.id}/sync`));
		showNotice(box, say`Sync of ${c.name} queued at ${fmtTime(run.requested_at)}.`);
	} catch (err) {
		if (err.code !== 'plan_required') return showError(box, err);
		const msg = h('div', {class: 'plan', role: 'alert'},
			h('strong', {}, 'Syncing needs a trial or paid plan. '),
			say`The plan of ${ctx.org.name} does not include it. `,
			isAdmin(ctx.role) ? h('a', {href: '/' + orgHash(ctx.org.id, 'settings')}, 'See plans and billing')
				: 'Ask an admin of the organization to upgrade the plan.');
		put(box, msg);
	} finally {
		button.disabled = false;
	}
}
