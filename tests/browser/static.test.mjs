// static.test.mjs: what the dashboard's source must not do, checked
// without a browser (issue 13).
//
// - Every page puts things on screen through src/web/js/dom.js (h, put,
//   swap), whose one rule for children cannot print null or undefined.
//   DOM calls that print whatever they get (append, prepend,
//   replaceChildren, before, after, insertAdjacent*, textContent,
//   innerText, innerHTML, outerHTML, document.write) appear nowhere else:
//   `main.append(cond ? el : null)` printed "null" on every page.
// - Nothing is loaded from another origin: no http(s):// URL in the HTML,
//   CSS or scripts (the CSP says default-src 'self' as well).

import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {join, dirname, relative} from 'node:path';
import {fileURLToPath} from 'node:url';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '../../src/web');

function files(dir) {
	return readdirSync(dir).flatMap((n) => {
		const p = join(dir, n);
		return statSync(p).isDirectory() ? files(p) : [p];
	});
}

// Comments say what they like; code is what runs.
const code = (src) => src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');

const PRINTS = /\.(append|prepend|replaceChildren|before|after|insertAdjacentHTML|insertAdjacentText|insertAdjacentElement)\s*\(|\.(textContent|innerText|innerHTML|outerHTML)\s*[+]?=(?!=)|document\.write/;

test('only dom.js writes to the DOM; every page uses h, put and swap', () => {
	const bad = [];
	for (const f of files(WEB).filter((p) => p.endsWith('.js'))) {
		const rel = relative(WEB, f);
		if (rel === 'js/dom.js') continue;
		code(readFileSync(f, 'utf8')).split('\n').forEach((line, i) => {
			if (PRINTS.test(line)) bad.push(`${rel}:${i + 1}: ${line.trim()}`);
		});
	}
	assert.deepEqual(bad, [], 'DOM writes outside js/dom.js');
});

test('every page module imports its DOM helpers from dom.js', () => {
	const pages = files(join(WEB, 'js')).filter((p) => p.endsWith('.js') && !/\/(dom|api|core)\.js$/.test(p));
	pages.push(join(WEB, 'app.js'));
	for (const f of pages) {
		assert.match(readFileSync(f, 'utf8'), /import \{[^}]*\b(put|swap)\b[^}]*\} from '\.\/(js\/)?dom\.js'/, `${relative(WEB, f)} uses put or swap from dom.js`);
	}
});

test('nothing is loaded from another origin', () => {
	const bad = [];
	for (const f of files(WEB).filter((p) => /\.(html|css|js|svg)$/.test(p))) {
		const text = f.endsWith('.js') ? code(readFileSync(f, 'utf8')) : readFileSync(f, 'utf8');
		for (const m of text.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s"'`)]*/gi)) {
			if (/^http:\/\/www\.w3\.org\/2000\/svg$/.test(m[0])) continue; // the SVG namespace, not a request
			bad.push(`${relative(WEB, f)}: ${m[0]}`);
		}
	}
	assert.deepEqual(bad, [], 'URLs of other origins');
});
