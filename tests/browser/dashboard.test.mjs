// SPDX-License-Identifier: MIT
// The dashboard in a real browser: a csms on a temp DB, a simulated charger (cpsim), Debian
// chromium headless driven by playwright-core. Checks: log in; a bad login shows an error; a
// charger connected by the test comes online on the page without a reload; a remote start from
// the page and the session appearing; a viewer cannot send commands (no button, API refuses);
// the language switch changes the text. Screenshots go to $ARTIFACTS.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const CHROMIUM = '/usr/bin/chromium';
const { CSMS_BIN, CPSIM_BIN, CSMS_WEB_ROOT, ARTIFACTS } = process.env;
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install chromium (./dev does)`);
let chromium;
try {
	({ chromium } = await import('playwright-core'));
} catch (e) {
	throw new Error('playwright-core missing: npm install (./dev does): ' + e.message);
}

const dir = mkdtempSync(join(tmpdir(), 'csms-browser-'));
mkdirSync(ARTIFACTS, { recursive: true });
const procs = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 20000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn().catch(() => null);
		if (v) return v;
		if (Date.now() > end) throw new Error('timed out waiting for ' + what);
		await sleep(200);
	}
}
function cleanup() {
	for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
}
process.on('exit', cleanup);

// ---- a real csms on a temp DB
const portFile = join(dir, 'port');
const csms = spawn(CSMS_BIN, ['--listen', '127.0.0.1:0', '--port-file', portFile, '--db', join(dir, 'csms.db'),
	'--registration', 'open', '--web-root', CSMS_WEB_ROOT, '--log-level', 'notice'], { stdio: ['ignore', 'inherit', 'inherit'] });
procs.push(csms);
const port = Number(await until('csms port file', async () => existsSync(portFile) && readFileSync(portFile, 'utf8').trim()));
const base = `http://127.0.0.1:${port}`;

// ---- accounts (the contract of wt-accounts: `csms users add NAME --role R --password-file F`)
const users = { admin: ['admin', 'admin-pass-1234'], viewer: ['watcher', 'viewer-pass-1234'] };
const probe = await fetch(base + '/api/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
// ==================== PRE-MERGE FALLBACK (remove when wt-accounts is merged) ====================
// Before the accounts branch lands there is no /api/login (404): the login steps are skipped and
// /api/me is answered in the browser with the role under test, so the pages can be checked. The
// API-side refusal of a viewer cannot be checked then either. Everything else is real.
const NO_ACCOUNTS = probe.status === 404;
if (NO_ACCOUNTS) {
	console.error('\n!!!!!!!! /api/login does not exist (404): accounts are not merged yet. SKIPPING the login,');
	console.error('!!!!!!!! bad-login and viewer-API-refusal checks; /api/me is faked in the browser. !!!!!!!!\n');
}
async function fakeMe(context, role) {
	if (!NO_ACCOUNTS) return;
	await context.route('**/api/me', (route) => route.fulfill({ status: 200, contentType: 'application/json',
		body: JSON.stringify({ user: 'test-' + role, role, csrf: 'pre-merge' }) }));
}
// ================================ END PRE-MERGE FALLBACK ========================================
if (!NO_ACCOUNTS) {
	for (const [role, [name, pw]] of Object.entries(users)) {
		const pf = join(dir, name + '.pw');
		writeFileSync(pf, pw + '\n', { mode: 0o600 });
		const r = spawnSync(CSMS_BIN, ['users', 'add', name, '--role', role, '--password-file', pf, '--db', join(dir, 'csms.db')], { stdio: 'inherit' });
		assert.equal(r.status, 0, `csms users add ${name}`);
	}
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, name + '.png'), fullPage: true });
let failed = false;
try {
	const ctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 } });
	await fakeMe(ctx, 'admin');
	const page = await ctx.newPage();
	const cspErrors = [];
	page.on('console', (m) => { if (m.type() === 'error') cspErrors.push(m.text()); });

	// ---- log in (a bad login first)
	await page.goto(base + '/');
	if (!NO_ACCOUNTS) {
		await page.waitForSelector('#login-form');
		await page.fill('#login-user', users.admin[0]);
		await page.fill('#login-password', 'wrong-password');
		await page.click('#login-submit');
		await page.waitForFunction(() => document.getElementById('login-error').textContent.length > 0);
		assert.match(await page.textContent('#login-error'), /Wrong user name or password/);
		await shot(page, '01-login-error');
		await page.fill('#login-password', users.admin[1]);
		await page.click('#login-submit');
	}
	await page.waitForSelector('#ov-stations');
	await page.waitForSelector('#live.on');
	console.log('ok: logged in, overview shown, /api/live connected');

	// ---- a charger connected now comes online on the stations page without a reload
	await page.click('a[href="#/stations"]');
	await page.waitForSelector('#stations');
	const navigations = [];
	page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations.push(f.url()); });
	const cpsim = spawn(CPSIM_BIN, ['--url', `ws://127.0.0.1:${port}/ocpp`, '--chargers', '1', '--protocol', 'ocpp1.6',
		'--id-prefix', 'BT', '--duration', '200', '--meter-interval', '2', '--auth', 'skip', '--seed', '7'], { stdio: ['ignore', 'ignore', 'inherit'] });
	procs.push(cpsim);
	const row = await page.waitForSelector('#st-rows tr[data-station] .dot.on', { timeout: 20000 });
	assert.ok(row);
	assert.ok(navigations.every((u) => u.startsWith(base + '/#')), 'no page reload: ' + navigations.join(' '));
	const stationId = await page.getAttribute('#st-rows tr[data-station]', 'data-station');
	console.log('ok: charger', stationId, 'came online on the page without a reload');
	await shot(page, '03-stations');

	// ---- remote start from the station page, the session appears
	await page.click(`a[href="#/station/${encodeURIComponent(stationId)}"]`);
	await page.waitForSelector('#cmd-remote-start');
	await until('a connector status', async () => (await page.$$('#sd-connectors tbody tr')).length > 0);
	await page.click('#cmd-remote-start');
	await page.waitForSelector('#cmd-confirm:not([hidden])');
	await page.click('#cmd-yes');
	await page.waitForFunction(() => /answered/.test(document.getElementById('cmd-result').textContent), null, { timeout: 40000 });
	assert.match(await page.textContent('#cmd-result'), /Accepted/);
	await page.waitForSelector('#sd-sessions tr[data-session]', { timeout: 30000 });
	console.log('ok: remote start accepted and the session appeared on the station page');
	await page.waitForSelector("#sd-commands tr", { timeout: 10000 }); // the command log, live
	await sleep(5000); // a few readings for the charts
	await shot(page, '04-station');

	await page.click('a[href="#/sessions"]');
	await page.waitForSelector('#se-rows tr[data-session]');
	await shot(page, '05-sessions');
	await page.click('#se-rows tr[data-session] a[href^="#/session/"]');
	await page.waitForSelector('#se-chart canvas');
	await shot(page, '06-session');
	await page.click('a[href="#/overview"]');
	await page.waitForSelector('#ov-chart canvas');
	await until('overview counts', async () => (await page.textContent('#ov-stations')) === '1', 10000);
	await shot(page, '02-overview');
	await page.click('a[href="#/sites"]');
	await page.waitForSelector('#site-energy-slot');
	await shot(page, '07-sites');

	// ---- the language switch changes the text (and is remembered)
	await page.click('a[href="#/stations"]');
	await page.waitForSelector('#stations');
	assert.equal((await page.textContent('header nav a[href="#/stations"]')).trim(), 'Stations');
	await page.selectOption('#lang', 'zh');
	await page.waitForFunction(() => document.querySelector('header nav a[href="#/stations"]').textContent === '充电站');
	assert.match(await page.textContent('h1'), /充电站/);
	await shot(page, '08-stations-zh');
	await page.reload();
	await page.waitForSelector('#stations');
	assert.equal(await page.textContent('header nav a[href="#/stations"]'), '充电站', 'language choice is stored');
	console.log('ok: the language switch changes the text and is remembered');
	assert.deepEqual(cspErrors.filter((e) => /Content Security Policy/i.test(e)), [], 'no CSP violations');

	// ---- a viewer: no command buttons, and the API refuses
	const vctx = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 } });
	await fakeMe(vctx, 'viewer');
	const vpage = await vctx.newPage();
	await vpage.goto(base + '/');
	if (!NO_ACCOUNTS) {
		await vpage.waitForSelector('#login-form');
		await vpage.fill('#login-user', users.viewer[0]);
		await vpage.fill('#login-password', users.viewer[1]);
		await vpage.click('#login-submit');
	}
	await vpage.waitForSelector('#ov-stations');
	await vpage.goto(base + '/#/station/' + encodeURIComponent(stationId));
	await vpage.waitForSelector('#cmd-readonly');
	assert.equal(await vpage.$('#cmd-remote-start'), null, 'a viewer sees no command button');
	assert.equal(await vpage.$('#cmd-reset'), null);
	await shot(vpage, '09-station-viewer');
	if (!NO_ACCOUNTS) {
		const status = await vpage.evaluate(async (id) => {
			const me = await (await fetch('/api/me')).json();
			const r = await fetch('/api/stations/' + encodeURIComponent(id) + '/reset', { method: 'POST',
				headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf }, body: '{"type":"soft"}' });
			return r.status;
		}, stationId);
		assert.equal(status, 403, 'the API refuses a viewer\'s command');
		console.log('ok: a viewer has no command buttons and the API refuses (403)');
	} else {
		console.error('!!!!!!!! SKIPPED (pre-merge): the API refusing a viewer\'s command');
	}
	console.log('screenshots in', ARTIFACTS);
} catch (e) {
	failed = true;
	console.error('FAIL:', e);
} finally {
	await browser.close();
	cleanup();
	rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
