// dom.js: the one way the dashboard puts things on screen.
//
// Every page builds its DOM with h(), and adds to or replaces what is on
// screen with put() and swap(); nothing else in src/web calls append,
// replaceChildren, textContent or innerHTML (tests/browser/static.test.mjs
// checks).  They share one rule for what a child may be, so a page cannot
// print "null", "undefined", "NaN" or "[object Object]":
//
//   node            added as it is
//   string          added as text (never parsed as HTML)
//   finite number   added as text
//   array           its items, by the same rule
//   null, undefined, true, false
//                   nothing: `cond && el` and `cond ? el : null` are safe
//   anything else (NaN, Infinity, a plain object, a function)
//                   an em dash, and a console error naming it (the browser
//                   suite fails on console errors)
//
// say`…` is the same rule for strings built from values: a null, undefined,
// NaN or object interpolated into it becomes an em dash and a console error.
//
// Also here: field() (a labelled control), forms' inline errors, table()
// (cells carry their column name for the narrow card layout), dialogs, and
// the time helpers.

import {humanError} from './api.js';

let uid = 0;
export const nextId = (p = 'f') => `${p}-${++uid}`;

// text(v): v as text by the rule above ('' for null/undefined/booleans).
function text(v) {
	if (v === null || v === undefined || v === true || v === false) return '';
	if (typeof v === 'string') return v;
	if (typeof v === 'number' && Number.isFinite(v)) return String(v);
	if (typeof v === 'bigint') return String(v);
	console.error('dom: refusing to print', v);
	return '—';
}

function add(el, kids) {
	for (const k of kids) {
		if (Array.isArray(k)) add(el, k);
		else if (k instanceof Node) el.appendChild(k);
		else {
			const t = text(k);
			if (t) el.appendChild(document.createTextNode(t));
		}
	}
}

// h(tag, attrs, ...children): a new element.  attrs: class, text, on*;
// false/null/undefined skip the attribute, true sets it empty.
export function h(tag, attrs, ...kids) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === false || v === null || v === undefined) continue;
		if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
		else if (k === 'class') el.className = v;
		else if (k === 'text') add(el, [v]);
		else if (k === 'value') el.value = text(v);
		else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'multiple' || k === 'inert') el[k] = !!v;
		else el.setAttribute(k, v === true ? '' : text(v));
	}
	add(el, kids);
	return el;
}

// put(el, ...kids): adds kids at the end of el; swap(el, ...kids): el's
// content becomes kids.  Both return el.
export function put(el, ...kids) {
	add(el, kids);
	return el;
}

export function swap(el, ...kids) {
	const f = document.createDocumentFragment();
	add(f, kids);
	el.replaceChildren(f);
	return el;
}

// say`text ${value}`: a string; values follow the rule above.
export function say(strings, ...vals) {
	let out = strings[0];
	vals.forEach((v, i) => {
		const t = v === null || v === undefined || v === true || v === false ? (console.error('say: refusing to print', v), '—') : text(v);
		out += t + strings[i + 1];
	});
	return out;
}

// list(items): "a", "a and b", "a, b and c".
export function list(items) {
	const xs = items.filter(Boolean);
	if (xs.length <= 1) return xs.join('');
	return `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`;
}

// field(label, attrs, opts): a <div class="field"> with a label and an
// input (or select/textarea via opts.tag, options via opts.options, a hint
// line via opts.hint).
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
	if (attrs.type === 'checkbox') put(wrap, ctl, h('label', {for: id}, label));
	else put(wrap, h('label', {for: id}, label), ctl);
	return put(wrap, hint);
}

export const ctlOf = (fieldDiv) => fieldDiv.querySelector('input,select,textarea');

// choices(legend, name, options, value): a radio group; options are
// [value, label, description]; each description is one line under its label.
export function choices(legend, name, options, value) {
	const gid = nextId('g');
	return h('fieldset', {class: 'choices', 'data-name': name},
		h('legend', {}, legend),
		options.map(([v, label, desc]) => {
			const id = `${gid}-${v}`;
			return h('div', {class: 'choice'},
				h('input', {type: 'radio', name, id, value: v, checked: v === value, 'aria-describedby': desc ? id + '-d' : null}),
				h('label', {for: id}, label),
				desc ? h('small', {class: 'hint', id: id + '-d'}, desc) : null);
		}));
}

export const chosen = (scope, name) => {
	const el = scope.querySelector(`input[type="radio"][name="${CSS.escape(name)}"]:checked`);
	return el ? el.value : '';
};

// errorBox(): where a form says what went wrong; noticeBox(): what went well.
export const errorBox = () => h('p', {class: 'error', role: 'alert', hidden: true});
export const noticeBox = () => h('p', {class: 'notice', role: 'status', hidden: true});

// showError(scope, err): the error in people's words (humanError) in the
// scope's .error box; the control named by err.field is marked and focused.
export function showError(scope, err) {
	clearError(scope);
	const box = scope.querySelector('.error');
	const msg = humanError(err);
	if (box) {
		swap(box, msg);
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
	for (const box of scope.querySelectorAll('.error')) {
		box.hidden = true;
		swap(box);
	}
	for (const el of scope.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

// showNotice(scope, text): a success line in scope's .notice box.
export function showNotice(scope, msg) {
	const box = scope.querySelector('.notice');
	if (!box) return announce(msg);
	swap(box, msg);
	box.hidden = false;
}

export function clearNotice(scope) {
	for (const box of scope.querySelectorAll('.notice')) {
		box.hidden = true;
		swap(box);
	}
}

// announce(text): read out by screen readers (the polite live region).
export function announce(msg) {
	const live = document.getElementById('live');
	if (live) {
		swap(live);
		setTimeout(() => swap(live, msg), 30);
	}
}

// busy(form, fn): runs fn with the form's buttons disabled and aria-busy
// set; an error lands in the form's error box.  Returns fn's result or
// undefined.
export async function busy(form, fn) {
	const buttons = [...form.querySelectorAll('button')].filter((b) => !b.disabled);
	buttons.forEach((b) => (b.disabled = true));
	form.setAttribute('aria-busy', 'true');
	clearError(form);
	try {
		return await fn();
	} catch (err) {
		showError(form, err);
		return undefined;
	} finally {
		buttons.forEach((b) => (b.disabled = false));
		form.removeAttribute('aria-busy');
	}
}

// table(caption, columns, rows, opts): columns [{label, cell(row)}]; on
// narrow screens each row is a card whose cells show their column's name.
export function table(caption, columns, rows, opts = {}) {
	if (!rows.length) return h('p', {class: 'empty'}, opts.empty || 'Nothing here yet.');
	return h('div', {class: 'tablewrap'},
		h('table', {class: 'list'},
			h('caption', {class: opts.showCaption ? '' : 'sr-only'}, caption),
			h('thead', {}, h('tr', {}, columns.map((c) => h('th', {scope: 'col'}, c.label)))),
			h('tbody', {}, rows.map((r) => h('tr', opts.rowAttrs ? opts.rowAttrs(r) : {},
				columns.map((c) => h('td', {'data-label': c.label}, h('div', {class: 'cell'}, c.cell(r)))))))));
}

// ---------------------------------------------------------------- dialogs

// dialog(opts): a modal built afresh each time it opens (no state is kept
// from one opening to the next).  opts: title, content (nodes), okLabel,
// cancelLabel ('Cancel'), danger (a red confirm button), returnFocus,
// focus (the element to focus first; else the first field, else cancel),
// onSubmit(form) (async; its error shows in the dialog's error box and
// keeps it open; its result resolves the promise), okDisabled.
// Resolves with onSubmit's result (true without one), or false if closed.
export function dialog(opts) {
	return new Promise((resolve) => {
		const tid = nextId('dlg');
		const ok = h('button', {type: 'submit', class: opts.danger ? 'danger' : '', disabled: !!opts.okDisabled}, opts.okLabel || 'Confirm');
		const cancel = h('button', {type: 'button', class: 'secondary'}, opts.cancelLabel || 'Cancel');
		const form = h('form', {novalidate: opts.novalidate},
			h('h2', {id: tid}, opts.title), errorBox(), opts.content,
			h('div', {class: 'actions'}, cancel, ok));
		const dlg = h('dialog', {'aria-labelledby': tid, class: 'modal'}, form);
		let result = false;
		cancel.addEventListener('click', () => dlg.close());
		form.addEventListener('submit', (e) => {
			e.preventDefault();
			if (!opts.onSubmit) {
				result = true;
				dlg.close();
				return;
			}
			busy(form, async () => {
				result = await opts.onSubmit(form);
				dlg.close();
			});
		});
		dlg.addEventListener('close', () => {
			const back = opts.returnFocus;
			dlg.remove();
			if (back && back.isConnected) back.focus();
			resolve(result);
		});
		put(document.body, dlg);
		dlg.showModal();
		const first = (typeof opts.focus === 'function' ? opts.focus(form) : opts.focus)
			|| form.querySelector('input:not([type="hidden"]):not([type="radio"]):not([type="checkbox"]), select, textarea')
			|| cancel;
		first.focus();
		if (opts.onOpen) opts.onOpen(form, ok);
	});
}

// confirmDialog(title, text, okLabel, opts): resolves true when confirmed.
// text: nodes or a string.  opts: cancelLabel, returnFocus, danger (default
// true), typeToConfirm (a word to type first), acknowledge (a checkbox
// label that must be ticked first: for what cannot be taken back by
// oneself), onSubmit (as in dialog()).
export function confirmDialog(title, text, okLabel = 'Confirm', opts = {}) {
	const typed = opts.typeToConfirm
		? field(`Type "${opts.typeToConfirm}" to confirm`, {autocomplete: 'off', name: 'confirm', spellcheck: 'false'})
		: null;
	const ack = opts.acknowledge ? field(opts.acknowledge, {type: 'checkbox', name: 'acknowledge'}) : null;
	const body = [typeof text === 'string' ? h('p', {}, text) : text, typed, ack];
	return dialog({
		title, content: body, okLabel, cancelLabel: opts.cancelLabel, returnFocus: opts.returnFocus,
		danger: opts.danger !== false, okDisabled: !!(typed || ack), onSubmit: opts.onSubmit,
		focus: (form) => (typed ? ctlOf(typed) : ack ? ctlOf(ack) : form.querySelector('.actions .secondary')),
		onOpen: (form, ok) => {
			const update = () => {
				ok.disabled = (typed && ctlOf(typed).value !== opts.typeToConfirm) || (ack && !ctlOf(ack).checked);
			};
			if (typed) ctlOf(typed).addEventListener('input', update);
			if (ack) ctlOf(ack).addEventListener('change', update);
		},
	});
}

// ------------------------------------------------------------------ time

const rtf = new Intl.RelativeTimeFormat('en', {numeric: 'auto'});
const UNITS = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400],
	['hour', 3600], ['minute', 60], ['second', 1]];

const valid = (iso) => typeof iso === 'string' && Number.isFinite(Date.parse(iso));

// relTime(iso): "3 minutes ago", "in 6 days"; `never` for null.
export function relTime(iso, never = 'never') {
	if (!valid(iso)) return never;
	const secs = (Date.parse(iso) - Date.now()) / 1000;
	if (Math.abs(secs) < 45) return secs < 0 ? 'just now' : 'in a few seconds';
	for (const [unit, s] of UNITS) {
		if (Math.abs(secs) >= s || unit === 'second') return rtf.format(Math.round(secs / s), unit);
	}
	return never;
}

const dtf = new Intl.DateTimeFormat('en', {dateStyle: 'medium', timeStyle: 'short'});
const df = new Intl.DateTimeFormat('en', {dateStyle: 'medium'});
export const fmtTime = (iso) => (valid(iso) ? dtf.format(new Date(iso)) : '—');
export const fmtDate = (iso) => (valid(iso) ? df.format(new Date(iso)) : '—');

// timeEl(iso, rel, never): a <time> with the exact time as its tooltip;
// rel false prints the date.
export function timeEl(iso, rel = true, never = 'never') {
	if (!valid(iso)) return h('span', {class: 'muted'}, never);
	return h('time', {datetime: iso, title: fmtTime(iso)}, rel ? relTime(iso, never) : fmtDate(iso));
}

export const badge = (label, kind = label) => h('span', {class: `badge b-${kind}`}, label);
