// dom.js: small DOM helpers shared by every page.
//
// h() builds elements (text is always set as text, never parsed as HTML),
// field() builds a labelled input, showError() puts an API error inline in a
// form and marks the named field, table() builds a table whose cells carry
// their column name for the narrow (card) layout, confirmDialog() asks
// before anything destructive, and the time helpers print RFC 3339 times.

let uid = 0;
export const nextId = (p = 'f') => `${p}-${++uid}`;

// h(tag, attrs, ...children): a new element.  attrs: class, text, on*, a
// boolean false/null skips the attribute; children: nodes, strings, arrays.
export function h(tag, attrs, ...kids) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === false || v === null || v === undefined) continue;
		if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
		else if (k === 'class') el.className = v;
		else if (k === 'text') el.textContent = v;
		else if (k === 'value') el.value = v;
		else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'multiple') el[k] = !!v;
		else el.setAttribute(k, v === true ? '' : v);
	}
	add(el, kids);
	return el;
}

function add(el, kids) {
	for (const k of kids) {
		if (k === null || k === undefined || k === false) continue;
		if (Array.isArray(k)) add(el, k);
		else el.append(k instanceof Node ? k : document.createTextNode(String(k)));
	}
}

// field(label, attrs, opts): a <div class="field"> with a label and an
// input (or select/textarea via opts.tag, options via opts.options).
export function field(label, attrs = {}, opts = {}) {
	const id = attrs.id || nextId();
	let ctl;
	if (opts.tag === 'select') {
		ctl = h('select', {...attrs, id}, (opts.options || []).map(([v, t]) =>
			h('option', {value: v, selected: String(attrs.value ?? '') === String(v)}, t)));
		if (attrs.value !== undefined) ctl.value = attrs.value;
	} else {
		ctl = h(opts.tag || 'input', {...attrs, id});
	}
	const hint = opts.hint ? h('small', {class: 'hint', id: id + '-hint'}, opts.hint) : null;
	if (hint) ctl.setAttribute('aria-describedby', hint.id);
	const wrap = h('div', {class: 'field' + (attrs.type === 'checkbox' ? ' check' : '')});
	if (attrs.type === 'checkbox') wrap.append(ctl, h('label', {for: id}, label));
	else wrap.append(h('label', {for: id}, label), ctl);
	if (hint) wrap.append(hint);
	return wrap;
}

export const ctlOf = (fieldDiv) => fieldDiv.querySelector('input,select,textarea');

// errorBox(): the inline place where a form says what went wrong.
export const errorBox = () => h('p', {class: 'error', role: 'alert', hidden: true});
export const noticeBox = () => h('p', {class: 'notice', role: 'status', hidden: true});

// showError(form, err): the API's message in the form's .error box; the
// control named by err.field (name attribute) is marked and focused.
export function showError(scope, err) {
	clearError(scope);
	const box = scope.querySelector('.error');
	const msg = err && err.message ? err.message : String(err);
	if (box) {
		box.textContent = msg;
		box.hidden = false;
	}
	if (err && err.field) {
		const ctl = scope.querySelector(`[name="${CSS.escape(err.field)}"]`);
		if (ctl) {
			ctl.setAttribute('aria-invalid', 'true');
			if (box) {
				box.id = box.id || nextId('err');
				ctl.setAttribute('aria-errormessage', box.id);
			}
			ctl.focus();
		}
	}
	if (!box) announce(msg);
}

export function clearError(scope) {
	const box = scope.querySelector('.error');
	if (box) {
		box.hidden = true;
		box.textContent = '';
	}
	for (const el of scope.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

export function showNotice(scope, text) {
	const box = scope.querySelector('.notice');
	if (!box) return announce(text);
	box.textContent = text;
	box.hidden = false;
}

// announce(text): read out by screen readers (the polite live region).
export function announce(text) {
	const live = document.getElementById('live');
	if (live) {
		live.textContent = '';
		setTimeout(() => (live.textContent = text), 30);
	}
}

// busy(form, fn): runs fn with the form's submit buttons disabled; any
// ApiError lands in the form's error box.  Returns fn's result or undefined.
export async function busy(form, fn) {
	const buttons = [...form.querySelectorAll('button')];
	buttons.forEach((b) => (b.disabled = true));
	clearError(form);
	try {
		return await fn();
	} catch (err) {
		showError(form, err);
		return undefined;
	} finally {
		buttons.forEach((b) => (b.disabled = false));
	}
}

// table(columns, rows, opts): columns [{label, cell(row) → node|string}].
export function table(caption, columns, rows, opts = {}) {
	if (!rows.length) return h('p', {class: 'empty'}, opts.empty || 'Nothing here yet.');
	return h('div', {class: 'tablewrap'},
		h('table', {class: 'list'},
			h('caption', {class: opts.showCaption ? '' : 'sr-only'}, caption),
			h('thead', {}, h('tr', {}, columns.map((c) => h('th', {scope: 'col'}, c.label)))),
			h('tbody', {}, rows.map((r) => h('tr', opts.rowAttrs ? opts.rowAttrs(r) : {},
				columns.map((c) => h('td', {'data-label': c.label}, h('div', {class: 'cell'}, c.cell(r)))))))));
}

// confirmDialog(title, text, okLabel, opts): resolves true when confirmed.
// opts.typeToConfirm: a word the user must type first (deleting an org).
export function confirmDialog(title, text, okLabel = 'Confirm', opts = {}) {
	return new Promise((resolve) => {
		const tid = nextId('dlg');
		const typed = opts.typeToConfirm
			? field(`Type "${opts.typeToConfirm}" to confirm`, {autocomplete: 'off', name: 'confirm'})
			: null;
		const ok = h('button', {type: 'submit', class: 'danger', value: 'ok'}, okLabel);
		const cancel = h('button', {type: 'button', class: 'secondary'}, 'Cancel');
		const form = h('form', {method: 'dialog'},
			h('h2', {id: tid}, title), h('p', {}, text), typed,
			h('div', {class: 'actions'}, cancel, ok));
		const dlg = h('dialog', {'aria-labelledby': tid, class: 'confirm'}, form);
		if (typed) {
			ok.disabled = true;
			ctlOf(typed).addEventListener('input', (e) => (ok.disabled = e.target.value !== opts.typeToConfirm));
		}
		let result = false;
		cancel.addEventListener('click', () => dlg.close());
		form.addEventListener('submit', () => (result = true));
		dlg.addEventListener('close', () => {
			const back = opts.returnFocus;
			dlg.remove();
			if (back && back.isConnected) back.focus();
			resolve(result);
		});
		document.body.append(dlg);
		dlg.showModal();
		(typed ? ctlOf(typed) : cancel).focus();
	});
}

// ------------------------------------------------------------------ time

const rtf = new Intl.RelativeTimeFormat('en', {numeric: 'auto'});
const UNITS = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400],
	['hour', 3600], ['minute', 60], ['second', 1]];

// relTime(iso): "3 minutes ago", "in 6 days"; "never" for null.
export function relTime(iso, never = 'never') {
	if (!iso) return never;
	const secs = (Date.parse(iso) - Date.now()) / 1000;
	if (Math.abs(secs) < 45) return secs < 0 ? 'just now' : 'in a few seconds';
	for (const [unit, s] of UNITS) {
		if (Math.abs(secs) >= s || unit === 'second') return rtf.format(Math.round(secs / s), unit);
	}
	return iso;
}

const dtf = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium', timeStyle: 'short'});
const df = new Intl.DateTimeFormat(undefined, {dateStyle: 'medium'});
export const fmtTime = (iso) => (iso ? dtf.format(new Date(iso)) : '—');
export const fmtDate = (iso) => (iso ? df.format(new Date(iso)) : '—');

// timeEl(iso, rel): a <time> with the exact time as its tooltip.
export function timeEl(iso, rel = true, never = 'never') {
	if (!iso) return h('span', {class: 'muted'}, never);
	return h('time', {datetime: iso, title: fmtTime(iso)}, rel ? relTime(iso, never) : fmtDate(iso));
}

export const badge = (text, kind = text) => h('span', {class: `badge b-${kind}`}, text);
