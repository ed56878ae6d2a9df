// Operator dashboard: hash-routed pages over the REST API, live updates from /api/live.
// No build step, no inline script or style (strict CSP). Pages load one page of rows at a time
// and never poll every station.
'use strict';

const S = { me: null, lang: 'en', ws: null, page: null, onEvent: null, chart: null, chart2: null };

// ---- text
function t(key, vars) {
	const tab = window.I18N[S.lang] || window.I18N.en;
	let s = tab[key] !== undefined ? tab[key] : (window.I18N.en[key] !== undefined ? window.I18N.en[key] : key);
	for (const k in vars || {}) s = s.replace('{' + k + '}', vars[k]);
	return s;
}
function applyText(root) {
	for (const el of (root || document).querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
	for (const el of (root || document).querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
	document.title = t('title');
	document.documentElement.lang = S.lang === 'zh' ? 'zh-CN' : 'en';
}
function initLang() {
	const stored = localStorage.getItem('csms.lang');
	S.lang = stored || ((navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en');
	const sel = document.getElementById('lang');
	sel.value = S.lang;
	sel.addEventListener('change', () => {
		S.lang = sel.value;
		localStorage.setItem('csms.lang', S.lang);
		route();
	});
}

// ---- DOM helpers
function h(tag, attrs, ...kids) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false) continue;
		if (k === 'class') el.className = v;
		else if (k === 'text') el.textContent = v;
		else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
		else el.setAttribute(k, v === true ? '' : v);
	}
	for (const c of kids.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
	return el;
}
const dash = (v) => (v === null || v === undefined || v === '' ? '—' : v);
function fmtTime(s) { return s ? new Date(s).toLocaleString(S.lang === 'zh' ? 'zh-CN' : 'en-GB') : '—'; }
function fmtKW(w) { return (w / 1000).toFixed(1) + ' kW'; }
function fmtKWh(wh) { return wh === null || wh === undefined ? '—' : (wh / 1000).toFixed(2); }
function fmtDur(s) {
	if (s === null || s === undefined) return '—';
	const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60);
	return hh + 'h' + String(mm).padStart(2, '0');
}
function table(cols, rows, cls) {
	return h('table', { class: cls || 'grid' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', { text: t(c) })))),
		h('tbody', {}, rows));
}
function badge(text, kind) { return h('span', { class: 'badge ' + (kind || String(text).toLowerCase()), text: text }); }
function dot(on) { return h('span', { class: 'dot ' + (on ? 'on' : 'off'), title: on ? t('st.online') : t('st.offline') }); }
function card(label, value, id) { return h('div', { class: 'card' }, h('div', { class: 'label', text: t(label) }), h('div', { class: 'value', id: id, text: value })); }
function section(title, ...kids) { return h('section', {}, h('h2', { text: t(title) }), ...kids); }
function canCommand() { return S.me && (S.me.role === 'operator' || S.me.role === 'admin'); }

// ---- API (cookie session; state-changing requests carry the CSRF token)
async function api(method, path, body) {
	const opt = { method, cache: 'no-store', credentials: 'same-origin', headers: {} };
	if (method !== 'GET') {
		// every write is application/json (the server answers 415 otherwise) and, with a
		// cookie session, carries the CSRF token from /api/login or /api/me
		opt.headers['Content-Type'] = 'application/json';
		opt.body = JSON.stringify(body === undefined ? {} : body);
		if (S.me && S.me.csrf) opt.headers['X-CSRF-Token'] = S.me.csrf;
	}
	const r = await fetch(path, opt);
	let data = null;
	try { data = await r.json(); } catch (e) { data = null; }
	if (r.status === 401 && path !== '/api/login' && path !== '/api/me') signedOut();
	if (!r.ok) {
		const err = new Error((data && data.error) || ('HTTP ' + r.status));
		err.status = r.status;
		throw err;
	}
	return data;
}
// the session ended (401, logout): drop what we knew, close the live socket, show the login
function signedOut() {
	S.me = null;
	if (S.ws) S.ws.close();
	if (location.hash !== '#/login') location.hash = '#/login';
}

// ---- the node's clock (a demo clock runs faster than the wall: GET /api/health says so)
const CLK = { base: Date.now(), at: Date.now(), speed: 1, timer: null };
function nodeNow() { return CLK.base + (Date.now() - CLK.at) * CLK.speed; }
// "today" is the node clock's day in the browser's zone (the operators' local time)
const tzMin = () => -new Date().getTimezoneOffset();
const nodeDate = () => new Date(nodeNow() + tzMin() * 60000).toISOString().slice(0, 10);
async function syncClock() {
	try {
		const hl = await (await fetch('/api/health', { cache: 'no-store' })).json();
		if (hl.time) { CLK.base = Date.parse(hl.time); CLK.at = Date.now(); }
		CLK.speed = Number(hl.clock_speed) || 1;
	} catch (e) { return; }
	const el = document.getElementById('clock');
	const tick = () => {
		el.hidden = CLK.speed === 1;
		const d = new Date(nodeNow() + tzMin() * 60000).toISOString();
		el.textContent = t('clock.demo', { x: CLK.speed, t: d.slice(5, 10) + ' ' + d.slice(11, 16) });
		el.title = t('clock.title');
	};
	tick();
	if (CLK.speed !== 1 && !CLK.timer) CLK.timer = setInterval(tick, 1000);
}
const utcOff = (m) => 'UTC' + (m < 0 ? '−' : '+') + String(Math.floor(Math.abs(m) / 60)).padStart(2, '0') + ':' + String(Math.abs(m) % 60).padStart(2, '0');
const fmtYuan = (fen) => (fen === null || fen === undefined ? '—' : '¥' + (fen / 100).toFixed(2));
const fmtPct = (x) => (x === null || x === undefined ? '—' : (x * 100).toFixed(1) + '%');
const TIERS = ['deep_valley', 'valley', 'flat', 'peak', 'critical_peak'];
const TIER_RGB = { deep_valley: '37,99,235', valley: '56,189,248', flat: '203,213,225', peak: '251,146,60', critical_peak: '220,38,38' };

// ---- live updates
function connectLive() {
	if (S.ws) return;
	const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/live', 'csms-live');
	S.ws = ws;
	const ind = document.getElementById('live');
	ws.onopen = () => { ind.className = 'live on'; ind.dataset.i18n = 'live.on'; ind.textContent = t('live.on'); sendPowerWish(); syncClock(); };
	ws.onclose = () => {
		ind.className = 'live off'; ind.dataset.i18n = 'live.off'; ind.textContent = t('live.off');
		S.ws = null;
		if (S.me) setTimeout(connectLive, 3000);
	};
	ws.onmessage = (m) => {
		let ev;
		try { ev = JSON.parse(m.data); } catch (e) { return; }
		if (S.onEvent) S.onEvent(ev);
	};
}
// per-station power events only on the pages that show one station
function sendPowerWish() {
	if (S.ws && S.ws.readyState === 1) S.ws.send(JSON.stringify({ power: S.page === 'station' }));
}

// ---- pages
const view = () => document.getElementById('view');

function pageLogin() {
	document.getElementById('top').hidden = true;
	const err = h('p', { class: 'error', id: 'login-error', role: 'alert' });
	const user = h('input', { id: 'login-user', autocomplete: 'username', required: true });
	const pass = h('input', { id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
	const form = h('form', { class: 'login', id: 'login-form' },
		h('h1', { text: t('login.title') }), h('p', { class: 'hint', text: t('login.hint') }),
		h('label', {}, t('login.user'), user), h('label', {}, t('login.password'), pass),
		h('button', { type: 'submit', id: 'login-submit', text: t('login.submit') }), err,
		h('select', { id: 'login-lang', 'aria-label': 'language',
			onchange: (e) => { S.lang = e.target.value; localStorage.setItem('csms.lang', S.lang); route(); } },
		h('option', { value: 'en', text: 'English', selected: S.lang === 'en' }),
		h('option', { value: 'zh', text: '中文', selected: S.lang === 'zh' })));
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		err.textContent = '';
		try {
			S.me = await api('POST', '/api/login', { username: user.value, password: pass.value });
			location.hash = '#/overview';
			start();
		} catch (x) {
			err.textContent = x.status === 401 ? t('login.bad') : x.status === 429 ? t('login.throttled') : t('login.error') + x.message;
		}
	});
	view().replaceChildren(form);
}

async function pageOverview() {
	const root = h('div', { class: 'page' }, h('h1', { text: t('ov.title') }));
	view().replaceChildren(root);
	const [sum, series, faulted, pending] = await Promise.all([
		api('GET', '/api/summary?tz_offset_min=' + tzMin()), api('GET', '/api/summary/power'),
		api('GET', '/api/connectors?status=Faulted&limit=20'),
		api('GET', '/api/stations?registration=Pending&limit=20')]);
	root.append(h('div', { class: 'cards' },
		card('ov.stations', sum.stations, 'ov-stations'),
		card('ov.online', sum.online + ' (' + sum.online_pct.toFixed(1) + '%)', 'ov-online'),
		card('ov.power', fmtKW(sum.power_w), 'ov-power'),
		card('ov.energy', fmtKWh(sum.energy_today_wh) + ' kWh', 'ov-energy'),
		card('ov.active', sum.sessions_active, 'ov-active'),
		card('ov.pending', sum.pending, 'ov-pending')));
	const kinds = ['public', 'residential', 'rural', 'swap', 'none'];
	const chartBox = h('div', { class: 'chart', id: 'ov-chart' });
	root.append(h('div', { class: 'cols' },
		section('ov.bykind', table(['col.kind', 'ov.stations', 'ov.online'],
			kinds.filter((k) => sum.by_kind[k].stations > 0 || k !== 'none').map((k) => h('tr', {},
				h('td', { text: t('kind.' + k) }), h('td', { class: 'num', text: sum.by_kind[k].stations }),
				h('td', { class: 'num', text: sum.by_kind[k].online })))),
		h('h2', { text: t('ov.connectors') }),
		table(['col.status', 'col.total'], Object.entries(sum.connectors).map(([k, v]) =>
			h('tr', {}, h('td', {}, badge(k)), h('td', { class: 'num', text: v }))))),
		section('ov.chart', chartBox)));
	const xs = series.points.map((p) => p[0] / 1000), ys = series.points.map((p) => p[1] / 1000);
	if (!xs.length) { xs.push(Date.parse(sum.time) / 1000); ys.push(sum.power_w / 1000); }
	// the x axis is the day so far (one point at start-up would otherwise span years)
	const day0 = Date.parse(sum.day_start) / 1000;
	S.chart = new uPlot({ width: 560, height: 240, series: [{ label: t('col.time') }, { label: t('ov.power'), stroke: '#1769aa', fill: 'rgba(23,105,170,0.1)', width: 2 }],
		scales: { x: { time: true, range: () => [day0, Math.max(day0 + 3600, xs[xs.length - 1], Date.parse(sum.time) / 1000)] } },
		axes: [{ space: 70 }, { size: 60 }], legend: { show: false } }, [xs, ys], chartBox);
	const fRows = faulted.connectors.map((c) => h('tr', {}, h('td', {}, h('a', { href: '#/station/' + encodeURIComponent(c.station), text: c.station })),
		h('td', { text: c.evse_id + '/' + c.connector_id }), h('td', { text: dash(c.error_code) }), h('td', { text: fmtTime(c.updated) })));
	const pRows = pending.stations.map((s) => h('tr', { 'data-station': s.id }, h('td', {}, h('a', { href: '#/station/' + encodeURIComponent(s.id), text: s.id })),
		h('td', { text: dash(s.site_kind) }), h('td', { text: fmtTime(s.last_seen) }),
		h('td', {}, canCommand() ? [h('button', { class: 'ok', text: t('accept'), onclick: () => decide(s.id, 'Accepted') }), ' ',
			h('button', { class: 'danger', text: t('reject'), onclick: () => decide(s.id, 'Rejected') })] : '')));
	root.append(h('div', { class: 'cols' },
		section('ov.faulted', fRows.length ? table(['col.station', 'col.connector', 'col.error', 'col.updated'], fRows) : h('p', { text: t('ov.none') })),
		section('ov.pending', pRows.length ? table(['col.station', 'col.kind', 'col.last_seen', 'col.actions'], pRows, 'grid') : h('p', { text: t('ov.none') }))));
	root.append(section('ov.energy.title', await networkEnergy()));
	let refresh = null;
	S.onEvent = (ev) => {
		if (ev.type === 'network') {
			document.getElementById('ov-power').textContent = fmtKW(ev.power_w);
			const d = S.chart.data;
			d[0].push(Date.parse(ev.time) / 1000); d[1].push(ev.power_w / 1000);
			S.chart.setData(d);
		} else if (['station', 'registration', 'session', 'connector'].includes(ev.type) && !refresh) {
			// counts change: reload the figures at most every 5 s, not per event
			refresh = setTimeout(async () => {
				refresh = null;
				if (S.page !== 'overview') return;
				const s2 = await api('GET', '/api/summary?tz_offset_min=' + tzMin());
				document.getElementById('ov-stations').textContent = s2.stations;
				document.getElementById('ov-online').textContent = s2.online + ' (' + s2.online_pct.toFixed(1) + '%)';
				document.getElementById('ov-active').textContent = s2.sessions_active;
				document.getElementById('ov-pending').textContent = s2.pending;
				document.getElementById('ov-energy').textContent = fmtKWh(s2.energy_today_wh) + ' kWh';
			}, 5000);
		}
	};
}
async function decide(id, status) {
	await api('POST', '/api/stations/' + encodeURIComponent(id) + '/registration', { status });
	route();
}

// ---- station create / password reset / delete (operators)
function stationAddForm(out) {
	const id = h('input', { id: 'st-new-id', autocomplete: 'off', required: true, placeholder: t('st.newid') });
	const site = h('input', { id: 'st-new-site', autocomplete: 'off', placeholder: t('col.site') });
	const proto = h('select', { id: 'st-new-proto', 'aria-label': t('col.protocol') },
		[['', t('col.protocol') + ': ' + t('st.any')], ['ocpp1.6', 'OCPP 1.6'], ['ocpp2.0.1', 'OCPP 2.0.1']].map(([v, l]) => h('option', { value: v, text: l })));
	const pw = h('input', { id: 'st-new-password', type: 'password', autocomplete: 'new-password', minlength: 16, maxlength: 40, size: 30, placeholder: t('st.pwgen') });
	const f = h('form', { class: 'filters', id: 'st-add-form' }, id, site, proto, pw, h('button', { type: 'submit', class: 'ok', id: 'st-create', text: t('st.add') }));
	f.addEventListener('submit', async (e) => {
		e.preventDefault();
		const b = { id: id.value.trim() };
		if (site.value.trim()) b.site = site.value.trim();
		if (proto.value) b.protocol = proto.value;
		if (pw.value) b.password = pw.value;
		let made = null;
		if (await tryDo(out, async () => { made = await api('POST', '/api/stations', b); }))
			pageStations(made.password ? { id: made.id, password: made.password } : null);
	});
	return section('st.add', f);
}
function stationRowActions(s, out) {
	const enc = encodeURIComponent(s.id);
	return [h('button', { class: 'st-reset', text: t('st.reset'), onclick: async () => {
		if (!confirm(t('st.resetconfirm', { s: s.id }))) return;
		let r = null;
		if (await tryDo(out, async () => { r = await api('POST', '/api/stations/' + enc + '/reset-password'); }))
			pageStations({ id: s.id, password: r.password });
	} }), h('button', { class: 'danger st-delete', text: t('st.delete'), onclick: async () => {
		if (confirm(t('st.delconfirm', { s: s.id })) && await tryDo(out, () => api('DELETE', '/api/stations/' + enc), t('st.deleted', { s: s.id })))
			setTimeout(() => { if (S.page === 'stations') pageStations(); }, 800);
	} })];
}

const stFilter = { q: '', site: '', kind: '', registration: '', online: '', status: '', protocol: '', offset: 0, limit: 50 };
async function pageStations(shown) {
	const f = stFilter;
	const sel = (name, opts) => h('select', { name, onchange: (e) => { f[name] = e.target.value; } },
		opts.map(([v, label]) => h('option', { value: v, text: label, selected: f[name] === v })));
	const q = h('input', { id: 'st-search', value: f.q, 'data-i18n-ph': 'st.search', placeholder: t('st.search') });
	const site = h('input', { id: 'st-site', name: 'site', value: f.site, size: 12, 'data-i18n-ph': 'st.site', placeholder: t('st.site') });
	const form = h('form', { class: 'filters', id: 'st-filters' }, q, site,
		sel('kind', [['', t('col.kind') + ': ' + t('st.any')], ...['public', 'residential', 'rural', 'swap'].map((k) => [k, t('kind.' + k)])]),
		sel('registration', [['', t('col.registration') + ': ' + t('st.any')], ...['Accepted', 'Pending', 'Rejected'].map((k) => [k, t('reg.' + k)])]),
		sel('online', [['', t('col.online') + ': ' + t('st.any')], ['true', t('st.online')], ['false', t('st.offline')]]),
		sel('status', [['', t('col.status') + ': ' + t('st.any')], ...['Available', 'Charging', 'Preparing', 'Finishing', 'SuspendedEV', 'Faulted', 'Unavailable'].map((k) => [k, k])]),
		sel('protocol', [['', t('col.protocol') + ': ' + t('st.any')], ['ocpp1.6', 'OCPP 1.6'], ['ocpp2.0.1', 'OCPP 2.0.1']]),
		h('button', { type: 'submit', text: t('st.apply') }));
	form.addEventListener('submit', (e) => { e.preventDefault(); f.q = q.value.trim(); f.site = site.value.trim(); f.offset = 0; pageStations(); });
	const body = h('tbody', { id: 'st-rows' });
	const pager = h('div', { class: 'pager' });
	const out = formResult();
	const cols = ['col.online', 'col.id', 'col.site', 'col.kind', 'col.protocol', 'col.registration', 'col.last_seen', 'col.vendor'];
	if (canCommand()) cols.push('col.actions');
	view().replaceChildren(h('div', { class: 'page' }, h('h1', { text: t('st.title') }), form,
		canCommand() ? stationAddForm(out) : null, out,
		shown ? h('div', { class: 'confirm secret', id: 'st-secret' }, h('strong', { text: t('st.pwonce', { s: shown.id }) }), h('code', { id: 'st-secret-value', text: shown.password })) : null,
		h('table', { class: 'grid', id: 'stations' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', { text: t(c) })))), body),
		pager));
	const p = new URLSearchParams({ limit: f.limit, offset: f.offset });
	for (const k of ['site', 'kind', 'registration', 'online', 'status', 'protocol']) if (f[k]) p.set(k, f[k]);
	if (f.q) p.set('q', f.q);
	const res = await api('GET', '/api/stations?' + p);
	const rows = new Map();
	for (const s of res.stations) {
		const tr = h('tr', { 'data-station': s.id },
			h('td', {}, dot(s.online)), h('td', {}, h('a', { href: '#/station/' + encodeURIComponent(s.id), text: s.id })),
			h('td', { text: dash(s.site) }), h('td', { text: s.site_kind ? t('kind.' + s.site_kind) : '—' }),
			h('td', { text: dash(s.protocol) }), h('td', {}, badge(t('reg.' + s.registration), s.registration.toLowerCase())),
			h('td', { class: 'last-seen', text: fmtTime(s.last_seen) }), h('td', { text: dash([s.vendor, s.model].filter(Boolean).join(' / ')) }),
			canCommand() ? h('td', {}, h('span', { class: 'actions' }, stationRowActions(s, out))) : null);
		rows.set(s.id, tr);
		body.append(tr);
	}
	pager.append(h('button', { text: t('st.prev'), disabled: f.offset === 0, onclick: () => { f.offset = Math.max(0, f.offset - f.limit); pageStations(); } }),
		h('span', { text: t('st.page', { a: res.total ? f.offset + 1 : 0, b: f.offset + res.stations.length, n: res.total }) }),
		h('button', { text: t('st.next'), disabled: f.offset + f.limit >= res.total, onclick: () => { f.offset += f.limit; pageStations(); } }));
	let reload = null;
	S.onEvent = (ev) => {
		if (ev.type !== 'station' && ev.type !== 'registration') return;
		const tr = rows.get(ev.station);
		if (tr && ev.type === 'station') {
			tr.firstChild.replaceChildren(dot(ev.online));
			tr.querySelector('.last-seen').textContent = fmtTime(ev.time);
		} else if (!tr && f.offset === 0 && !reload) {
			// a station this page does not show yet (new, or now matching): reload the page once
			reload = setTimeout(() => { if (S.page === 'stations') pageStations(); }, 1000);
		}
	};
}

async function pageStation(id) {
	const enc = encodeURIComponent(id);
	const [st, sess, cmds, hist] = await Promise.all([api('GET', '/api/stations/' + enc),
		api('GET', '/api/sessions?active=true&station=' + enc), api('GET', '/api/commands?limit=20&station=' + enc),
		api('GET', '/api/stations/' + enc + '/history?limit=20')]);
	const result = h('div', { class: 'result', id: 'cmd-result', role: 'status' });
	const confirmBox = h('div', { class: 'confirm', id: 'cmd-confirm', hidden: true });
	const tag = h('input', { id: 'cmd-tag', value: 'DASHBOARD', size: 12 });
	const evse = h('input', { id: 'cmd-evse', type: 'number', value: 1, min: 0, max: 8, size: 3 });
	function ask(kind, body) {
		confirmBox.hidden = false;
		confirmBox.replaceChildren(h('span', { text: t('cmd.confirm', { c: t('cmd.' + kind), s: id }) }), ' ',
			h('button', { class: 'ok', id: 'cmd-yes', text: t('cmd.yes'), onclick: async () => {
				confirmBox.hidden = true;
				result.className = 'result';
				result.textContent = t('cmd.sending');
				try {
					const r = await api('POST', '/api/stations/' + enc + '/' + kind, body());
					result.className = 'result ok';
					result.textContent = t('cmd.answer', { a: dash(r.status) });
				} catch (x) {
					result.className = 'result bad';
					result.textContent = t('cmd.failed', { e: x.status === 403 ? t('forbidden') : x.message });
				}
			} }), ' ', h('button', { text: t('cmd.no'), onclick: () => { confirmBox.hidden = true; } }));
	}
	// the stop button follows the active sessions (live): one per active session
	const stops = h('span', { class: 'actions', id: 'cmd-stops' });
	const setStops = (list) => stops.replaceChildren(...list.map((a) => h('button', { id: list.length === 1 ? 'cmd-remote-stop' : 'cmd-remote-stop-' + a.id,
		text: t('cmd.remote-stop') + (list.length > 1 ? ' #' + a.id : ''), onclick: () => ask('remote-stop', () => ({ session_id: a.id })) })));
	setStops(sess.sessions);
	const actions = canCommand() ? h('div', { class: 'actions', id: 'cmd-actions' },
		h('label', {}, t('cmd.tag') + ' ', tag), h('label', {}, t('cmd.evse') + ' ', evse),
		h('button', { id: 'cmd-remote-start', text: t('cmd.remote-start'), onclick: () => ask('remote-start', () => ({ id_tag: tag.value, evse_id: Number(evse.value) })) }),
		stops,
		h('button', { id: 'cmd-unlock', text: t('cmd.unlock'), onclick: () => ask('unlock', () => ({ evse_id: Number(evse.value) })) }),
		h('button', { id: 'cmd-reset', class: 'danger', text: t('cmd.reset'), onclick: () => ask('reset', () => ({ type: 'soft' })) }))
		: h('p', { class: 'hint', id: 'cmd-readonly', text: t('cmd.readonly') });
	const connBody = h('tbody', {}, st.connectors.map((c) => h('tr', { 'data-conn': c.evse_id + '/' + c.connector_id },
		h('td', { text: c.evse_id + '/' + c.connector_id }), h('td', { class: 'status' }, badge(c.status)), h('td', { text: dash(c.error_code) }), h('td', { text: fmtTime(c.updated) }))));
	const sessBody = h('tbody', { id: 'sd-sessions' }, sess.sessions.map(sessionRow));
	const cmdRow = (c) => h('tr', {}, h('td', { text: fmtTime(c.requested) }), h('td', { text: c.kind + (c.request ? ' ' + c.request : '') }),
		h('td', {}, badge(c.status)), h('td', { text: dash(c.station_status || c.detail) }), h('td', { text: c.who }));
	const cmdBody = h('tbody', { id: 'sd-commands' }, cmds.commands.map(cmdRow));
	view().replaceChildren(h('div', { class: 'page' },
		h('h1', {}, dot(st.online), ' ', id, ' ', badge(t('reg.' + st.registration), st.registration.toLowerCase())),
		h('p', { class: 'meta', text: [st.site_kind && t('kind.' + st.site_kind), st.site, st.protocol, [st.vendor, st.model].filter(Boolean).join(' '), st.firmware].filter(Boolean).join(' · ') }),
		st.site_kind === 'swap' ? h('p', {}, h('a', { id: 'sd-swap', href: '#/swap/' + enc, text: t('sw.link') })) : null,
		h('div', { class: 'cards' }, card('sd.power', '—', 'sd-power'), card('col.last_seen', fmtTime(st.last_seen), 'sd-seen')),
		section('sd.actions', actions, confirmBox, result),
		section('sd.connectors', h('table', { class: 'grid', id: 'sd-connectors' }, h('thead', {}, h('tr', {}, ['col.connector', 'col.status', 'col.error', 'col.updated'].map((c) => h('th', { text: t(c) })))), connBody)),
		section('sd.session', h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['col.id', 'col.station', 'col.connector', 'col.token', 'col.start', 'col.stop', 'col.energy', 'col.duration', 'col.cost'].map((c) => h('th', { text: t(c) })))), sessBody)),
		section('sd.commands', h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['col.when', 'col.command', 'col.status', 'col.answer', 'col.who'].map((c) => h('th', { text: t(c) })))), cmdBody)),
		section('sd.history', hist.history.length ? table(['col.when', 'col.kindtext', 'col.detail'], hist.history.map((e) =>
			h('tr', {}, h('td', { text: fmtTime(e.time) }), h('td', { text: e.source + ' / ' + e.kind }), h('td', { text: dash(e.text) })))) : h('p', { class: 'hint', text: t('ov.none') }))));
	S.onEvent = async (ev) => {
		if (ev.station !== id) return;
		if (ev.type === 'power') document.getElementById('sd-power').textContent = fmtKW(ev.power_w);
		if (ev.type === 'station') view().querySelector('h1 .dot').replaceWith(dot(ev.online));
		if (ev.type === 'connector') {
			const key = ev.evse_id + '/' + ev.connector_id;
			let tr = connBody.querySelector('[data-conn="' + key + '"]');
			if (!tr) { tr = h('tr', { 'data-conn': key }, h('td', { text: key }), h('td', { class: 'status' }), h('td'), h('td')); connBody.append(tr); }
			tr.children[1].replaceChildren(badge(ev.status));
			tr.children[2].textContent = dash(ev.error_code);
			tr.children[3].textContent = fmtTime(ev.time);
		}
		if (ev.type === 'command') {
			const c2 = await api('GET', '/api/commands?limit=20&station=' + enc);
			cmdBody.replaceChildren(...c2.commands.map(cmdRow));
		}
		if (ev.type === 'session' || ev.type === 'command') {
			const s2 = await api('GET', '/api/sessions?active=true&station=' + enc);
			sessBody.replaceChildren(...s2.sessions.map(sessionRow));
			setStops(s2.sessions);
		}
	};
}

function sessionRow(s) {
	return h('tr', { 'data-session': s.id }, h('td', {}, h('a', { href: '#/session/' + s.id, text: s.id })),
		h('td', {}, h('a', { href: '#/station/' + encodeURIComponent(s.station), text: s.station })),
		h('td', { text: s.evse_id + '/' + s.connector_id }), h('td', { text: dash(s.id_tag) }),
		h('td', { text: fmtTime(s.start) }), h('td', {}, s.active ? badge(t('se.active'), 'charging') : fmtTime(s.stop)),
		h('td', { class: 'num', text: fmtKWh(s.energy_wh) }), h('td', { text: fmtDur(s.duration_s) }),
		h('td', { class: 'num cost', text: s.cost_fen == null ? '—' : '¥' + (s.cost_fen / 100).toFixed(2) }));
}

const seFilter = { station: '', token: '', active: '', offset: 0, limit: 50 };
async function pageSessions() {
	const f = seFilter;
	const station = h('input', { name: 'station', value: f.station, placeholder: t('col.station') });
	const token = h('input', { name: 'token', value: f.token, placeholder: t('col.token') });
	const active = h('select', { name: 'active' }, [['', t('col.status') + ': ' + t('st.any')], ['true', t('se.active')], ['false', t('se.stopped')]].map(([v, l]) => h('option', { value: v, text: l, selected: f.active === v })));
	const form = h('form', { class: 'filters' }, station, token, active, h('button', { type: 'submit', text: t('st.apply') }));
	form.addEventListener('submit', (e) => { e.preventDefault(); f.station = station.value.trim(); f.token = token.value.trim(); f.active = active.value; f.offset = 0; pageSessions(); });
	const p = new URLSearchParams({ limit: f.limit, offset: f.offset });
	for (const k of ['station', 'token', 'active']) if (f[k]) p.set(k, f[k]);
	const res = await api('GET', '/api/sessions?' + p);
	const body = h('tbody', { id: 'se-rows' }, res.sessions.map(sessionRow));
	view().replaceChildren(h('div', { class: 'page' }, h('h1', { text: t('se.title') }), form,
		h('table', { class: 'grid', id: 'sessions' }, h('thead', {}, h('tr', {}, ['col.id', 'col.station', 'col.connector', 'col.token', 'col.start', 'col.stop', 'col.energy', 'col.duration', 'col.cost'].map((c) => h('th', { text: t(c) })))), body),
		h('div', { class: 'pager' }, h('button', { text: t('st.prev'), disabled: f.offset === 0, onclick: () => { f.offset = Math.max(0, f.offset - f.limit); pageSessions(); } }),
			h('span', { text: t('st.page', { a: res.total ? f.offset + 1 : 0, b: f.offset + res.sessions.length, n: res.total + (res.total_more ? '+' : '') }) }),
			h('button', { text: t('st.next'), disabled: f.offset + f.limit >= res.total, onclick: () => { f.offset += f.limit; pageSessions(); } }))));
	let reload = null;
	S.onEvent = (ev) => {
		if (ev.type === 'session' && f.offset === 0 && !reload)
			reload = setTimeout(() => { if (S.page === 'sessions') pageSessions(); }, 1000);
	};
}

async function pageSession(id) {
	const s = await api('GET', '/api/sessions/' + id + '/meter-values?limit=1').then(() => null).catch((e) => e);
	if (s) throw s;
	const list = await api('GET', '/api/sessions?limit=1&before=' + (Number(id) + 1));
	const row = list.sessions.find((x) => String(x.id) === String(id));
	const samples = [];
	let after = null;
	do { // readings by page (never one multi-MB body)
		const page = await api('GET', '/api/sessions/' + id + '/meter-values?limit=5000' + (after ? '&after=' + after : ''));
		samples.push(...page.meter_values);
		after = page.next;
	} while (after && samples.length < 200000);
	const byT = new Map();
	for (const m of samples) {
		if (m.phase) continue;
		const ts = Date.parse(m.timestamp) / 1000, v = Number(m.value);
		const o = byT.get(ts) || { p: null, e: null, soc: null };
		const k = m.unit === 'kW' || m.unit === 'kWh' ? 1 : 1 / 1000;
		if (m.measurand === 'Power.Active.Import') o.p = v * k;
		else if (m.measurand === 'Energy.Active.Import.Register') o.e = v * k;
		else if (m.measurand === 'SoC') o.soc = v;
		byT.set(ts, o);
	}
	const ts = [...byT.keys()].sort((a, b) => a - b);
	const chartBox = h('div', { class: 'chart wide', id: 'se-chart' });
	const root = h('div', { class: 'page' }, h('h1', { text: t('se.detail', { id }) }),
		row ? table(['col.id', 'col.station', 'col.connector', 'col.token', 'col.start', 'col.stop', 'col.energy', 'col.duration', 'col.cost'], [sessionRow(row)]) : null,
		section('se.chart', h('p', { class: 'meta', text: t('se.samples', { n: samples.length }) }), chartBox));
	view().replaceChildren(root);
	const e0 = ts.length ? byT.get(ts[0]).e : null;
	S.chart = new uPlot({ width: 900, height: 300, series: [{ label: t('col.time') },
		{ label: t('se.power'), stroke: '#1769aa', width: 2, scale: 'kw' },
		{ label: t('se.energyk'), stroke: '#2e7d32', width: 2, scale: 'kw' },
		{ label: t('se.soc'), stroke: '#c77700', width: 2, scale: '%' }],
	axes: [{ space: 70 }, { scale: 'kw', size: 50 }, { scale: '%', side: 1, grid: { show: false } }] },
	[ts, ts.map((x) => byT.get(x).p), ts.map((x) => (byT.get(x).e === null || e0 === null ? null : byT.get(x).e - e0)), ts.map((x) => byT.get(x).soc)], chartBox);
	S.chart2 = await sessionPlanAndCdr(id, root);
	S.onEvent = null;
}

// ---- sites and the site energy view
async function pageSites() {
	const res = await api('GET', '/api/sites');
	const rows = res.sites.map((x) => h('tr', { 'data-site': x.id },
		h('td', {}, h('a', { href: '#/site/' + encodeURIComponent(x.id), text: x.id })), h('td', { text: t('kind.' + x.kind) }),
		h('td', { text: dash(x.name) }), h('td', { class: 'num', text: x.stations }), h('td', { class: 'num', text: x.online }),
		h('td', { class: 'num', text: x.limit_kw === null || x.limit_kw === undefined ? '—' : x.limit_kw }), h('td', { text: dash(x.tariff) })));
	view().replaceChildren(h('div', { class: 'page' }, h('h1', { text: t('si.title') }),
		rows.length ? h('table', { class: 'grid', id: 'sites' }, h('thead', {}, h('tr', {}, ['col.id', 'col.kind', 'col.name', 'ov.stations', 'ov.online', 'col.limit', 'col.tariff'].map((c) => h('th', { text: t(c) })))), h('tbody', {}, rows))
			: h('p', { class: 'hint', text: t('si.none') })));
}

// the day's tariff bands behind a uPlot chart (drawn on the canvas before the series)
function bandsPlugin(bands) {
	return { hooks: { drawClear: [(u) => {
		const ctx = u.ctx, top = u.bbox.top, hgt = u.bbox.height;
		ctx.save();
		for (const b of bands) {
			const x0 = u.valToPos(Date.parse(b.start) / 1000, 'x', true), x1 = u.valToPos(Date.parse(b.end) / 1000, 'x', true);
			ctx.fillStyle = 'rgba(' + TIER_RGB[b.tier] + ',0.16)';
			ctx.fillRect(x0, top, x1 - x0, hgt);
		}
		ctx.restore();
	}] } };
}
function tierStrip(bands, id) {
	// the same bands as DOM (readable, testable): one block per band, width by duration
	return h('div', { class: 'bands', id }, bands.map((b) => {
		const el = h('div', { class: 'band tier-' + b.tier, 'data-tier': b.tier, 'data-from': b.from, 'data-to': b.to,
			title: b.from + '–' + b.to + ' ' + t('tier.' + b.tier) + ' ' + fmtYuan(b.import_fen_per_mwh / 1000) + '/kWh' },
		h('span', { text: b.from + ' ' + t('tier.' + b.tier) }));
		el.style.flexGrow = String(Math.max(1, (Date.parse(b.end) - Date.parse(b.start)) / 60000));
		return el;
	}));
}
function tierLegend() {
	return h('div', { class: 'legend' }, TIERS.map((k) => h('span', {}, h('i', { class: 'sw tier-' + k }), t('tier.' + k))));
}
// a uPlot tzDate that shows times in a fixed UTC offset (the tariff's local time), whatever the
// browser's zone
function inZone(offMin) {
	return (ts) => { const d = new Date(ts * 1000 + offMin * 60000); return new Date(d.getTime() + d.getTimezoneOffset() * 60000); };
}
function dayShift(date, d) {
	const x = new Date(Date.parse(date + 'T12:00:00Z') + d * 86400000);
	return x.toISOString().slice(0, 10);
}

async function pageSite(id, date) {
	const enc = encodeURIComponent(id);
	const site = await api('GET', '/api/sites/' + enc);
	const root = h('div', { class: 'page' }, h('h1', {}, t('si.site', { id }), ' ', badge(t('kind.' + site.kind), 'kind')),
		h('p', { class: 'meta', text: [site.name, site.location, t('si.stations', { n: site.stations, o: site.online })].filter(Boolean).join(' · ') }));
	view().replaceChildren(root);
	let energy = null;
	try {
		energy = await api('GET', '/api/sites/' + enc + '/energy' + (date ? '?date=' + date : ''));
	} catch (x) {
		if (x.status !== 409) throw x;
	}
	if (!energy) {
		root.append(h('p', { class: 'hint', id: 'site-no-tariff', text: t('si.notariff') }));
		return;
	}
	const day = energy.date;
	const [bands, plan] = await Promise.all([api('GET', '/api/tariffs/' + encodeURIComponent(energy.tariff) + '/bands?date=' + day),
		api('GET', '/api/sites/' + enc + '/plan?hours=' + Math.min(72, Math.max(1, Math.ceil((nodeNow() - Date.parse(day + 'T00:00:00Z') + 86400000) / 3600000))))]);
	const f = energy.energy, p = plan.plan;
	const x0 = Date.parse(bands.bands[0].start) / 1000, x1 = Date.parse(bands.bands[bands.bands.length - 1].end) / 1000;
	root.append(h('div', { class: 'pager' },
		h('a', { href: '#/site/' + enc + '/' + dayShift(day, -1), id: 'site-prev', text: '← ' + t('si.prevday') }),
		h('strong', { id: 'site-date', text: day }), h('span', { class: 'meta', text: t('si.tariff', { id: energy.tariff, z: utcOff(bands.utc_offset_min) }) }),
		h('a', { href: '#/site/' + enc + '/' + dayShift(day, 1), id: 'site-next', text: t('si.nextday') + ' →' })));
	root.append(h('div', { class: 'cards' },
		card('si.valley', fmtPct(f.import_wh ? f.valley_share : null), 'site-valley'),
		card('si.import', fmtKWh(f.import_wh) + ' kWh', 'site-import'),
		card('si.export', fmtKWh(f.export_wh) + ' kWh', 'site-export'),
		card('si.sessions', f.sessions + (f.unpriced_sessions ? ' (+' + f.unpriced_sessions + ')' : ''), 'site-sessions'),
		card('si.limit', plan.limit_kw === null ? '—' : plan.limit_kw + ' kW', 'site-limit'),
		card('si.cost.plan', p ? fmtYuan(p.cost_planned_fen) : '—', 'site-cost-plan'),
		card('si.cost.now', p ? fmtYuan(p.cost_immediate_fen) : '—', 'site-cost-now')));
	if (p && p.energy_planned_wh !== p.energy_immediate_wh)
		root.append(h('p', { class: 'meta', text: t('si.cost.note', { a: fmtKWh(p.energy_planned_wh), b: fmtKWh(p.energy_immediate_wh) }) }));
	// the chart: actual import (and export) per 15 min, the plan's power per slot, the limit
	const xs = new Set();
	const inDay = (ms) => ms / 1000 >= x0 && ms / 1000 < x1;
	const act = new Map(), pl = new Map(), lim = new Map();
	for (const a of plan.actual) if (inDay(a.start_ms)) { xs.add(a.start_ms / 1000); act.set(a.start_ms / 1000, a); }
	if (p) for (const sl of p.slots) if (inDay(sl.start_ms)) { xs.add(sl.start_ms / 1000); pl.set(sl.start_ms / 1000, sl); }
	const xv = [...xs].sort((a, b) => a - b);
	const limit = (x) => (pl.has(x) && pl.get(x).limit_w >= 0 ? pl.get(x).limit_w / 1000 : (plan.limit_kw === null ? null : plan.limit_kw));
	// planned: the current plan's slots, before them what each past slot was planned at (the site's plan history)
	const planned = (x) => (pl.has(x) ? pl.get(x).planned_w / 1000 : act.has(x) && act.get(x).planned_w != null ? act.get(x).planned_w / 1000 : null);
	const chartBox = h('div', { class: 'chart wide', id: 'site-chart' });
	root.append(section('si.chart', tierStrip(bands.bands, 'site-bands'), chartBox, tierLegend()));
	const step = { paths: uPlot.paths.stepped({ align: 1 }) };
	const strip = root.querySelector('#site-bands');
	// the DOM band strip over exactly the plot area, once uPlot has laid it out (CSSOM: allowed by the CSP)
	const alignStrip = { hooks: { ready: [(u) => {
		const ro = u.over.getBoundingClientRect(), rs = strip.parentElement.getBoundingClientRect();
		strip.style.marginLeft = (ro.left - rs.left) + 'px';
		strip.style.width = ro.width + 'px';
	}] } };
	S.chart = new uPlot({ width: Math.max(600, chartBox.clientWidth - 20), height: 320, plugins: [bandsPlugin(bands.bands), alignStrip], tzDate: inZone(bands.utc_offset_min),
		series: [{ label: t('col.time') },
			{ label: t('si.actual'), stroke: '#1769aa', width: 2, fill: 'rgba(23,105,170,0.15)', ...step },
			{ label: t('si.export.kw'), stroke: '#7c3aed', width: 2, ...step },
			{ label: t('si.planned'), stroke: '#2e7d32', width: 2, dash: [6, 4], ...step },
			{ label: t('si.limitline'), stroke: '#c62828', width: 2 }],
		scales: { x: { time: true, range: () => [x0, x1] }, y: { range: (u, lo, hi) => [Math.min(0, lo || 0), Math.max(1, (hi || 0) * 1.1)] } },
		axes: [{ space: 70 }, { size: 60, label: 'kW' }] },
	[xv, xv.map((x) => (act.has(x) ? act.get(x).import_w / 1000 : null)), xv.map((x) => (act.has(x) && act.get(x).export_w ? -act.get(x).export_w / 1000 : null)),
		xv.map(planned), xv.map(limit)], chartBox);

	// energy per tier, with the day's price of each tier
	const price = {};
	for (const b of bands.bands) price[b.tier] = b.import_fen_per_mwh;
	const imp = f.import_wh || 0;
	root.append(h('div', { class: 'cols' },
		section('si.tiers', h('table', { class: 'grid', id: 'site-tiers' }, h('thead', {}, h('tr', {}, ['col.tier', 'col.energy', 'col.share', 'col.price'].map((c) => h('th', { text: t(c) })))),
			h('tbody', {}, TIERS.map((k) => h('tr', { 'data-tier': k }, h('td', {}, h('i', { class: 'sw tier-' + k }), t('tier.' + k)),
				h('td', { class: 'num', text: fmtKWh(f.tiers[k] ? f.tiers[k].wh : 0) }),
				h('td', { class: 'num', text: imp ? fmtPct((f.tiers[k] ? f.tiers[k].wh : 0) / imp) : '—' }),
				h('td', { class: 'num', text: price[k] === undefined ? '—' : fmtYuan(price[k] / 1000) + '/kWh' })))))),
		section('si.plan', p ? table(['col.session', 'col.station', 'col.mode', 'col.departure', 'col.target', 'col.short'], (p.sessions || []).map((x) =>
			h('tr', {}, h('td', {}, h('a', { href: '#/session/' + x.session_id, text: x.session_id })), h('td', { text: dash(x.station_id) }), h('td', { text: dash(x.mode) }),
				h('td', { text: x.departure_ms > 0 ? fmtTime(new Date(x.departure_ms).toISOString()) : '—' }), h('td', { class: 'num', text: fmtKWh(x.target_wh) }),
				h('td', { text: x.short ? fmtKWh(x.shortfall_wh) + ' kWh' : t('no') })))) : h('p', { class: 'hint', text: t('si.noplan') }),
		p ? h('p', { class: 'meta', text: t('si.planmeta', { s: dash(p.status), m: dash(p.method), ms: dash(p.solve_ms) }) }) : null)));
	S.onEvent = null;
}

async function networkEnergy() {
	// the network's energy of the day by site kind (each site in its calendar's local day)
	let e;
	try { e = await api('GET', '/api/energy?date=' + nodeDate()); } catch (x) { return h('p', { class: 'hint', text: t('error') + x.message }); }
	const kinds = ['public', 'residential', 'rural', 'swap'];
	const row = (label, f, k) => h('tr', { 'data-kind': k }, h('td', { text: label }), h('td', { class: 'num', text: fmtKWh(f.import_wh) }),
		h('td', { class: 'num', text: f.import_wh ? fmtPct(f.valley_share) : '—' }), h('td', { class: 'num', text: fmtKWh(f.export_wh) }),
		h('td', { class: 'num', text: f.sessions + (f.unpriced_sessions ? ' (+' + f.unpriced_sessions + ')' : '') }));
	return h('div', {}, h('p', { class: 'meta', text: t('ov.energy.date', { d: e.date }) }),
		h('table', { class: 'grid', id: 'ov-energy-kinds' }, h('thead', {}, h('tr', {}, ['col.kind', 'col.energy', 'si.valley', 'col.export', 'si.sessions'].map((c) => h('th', { text: t(c) })))),
			h('tbody', {}, kinds.filter((k) => e.by_site_kind[k]).map((k) => row(t('kind.' + k), e.by_site_kind[k], k)), row(t('col.total'), e.total, 'total'))));
}

// ---- a session: its readings, its plan and actual curve, its CDR
async function sessionPlanAndCdr(id, root) {
	const [pr, cdr] = await Promise.all([api('GET', '/api/sessions/' + id + '/plan').catch((x) => x),
		api('GET', '/api/sessions/' + id + '/cdr').catch((x) => x)]);
	const planBox = h('div', { class: 'chart wide', id: 'se-plan' });
	let planChart = null;
	if (pr instanceof Error) {
		root.append(section('se.plan', h('p', { class: 'hint', id: 'se-noplan', text: pr.status === 404 ? t('se.noplan') : t('error') + pr.message })));
	} else {
		const p = pr.plan, n = p.needs || {};
		const xs = new Set(), act = new Map(), pl = new Map();
		for (const a of pr.actual) if (a.import_w || a.export_w) { xs.add(a.start_ms / 1000); act.set(a.start_ms / 1000, a); }
		(p.power_w || []).forEach((w, k) => { const x = (p.start_ms + k * p.slot_s * 1000) / 1000; xs.add(x); pl.set(x, w); });
		const xv = [...xs].sort((a, b) => a - b);
		root.append(section('se.plan', h('p', { class: 'meta', id: 'se-plan-meta', text: t('se.planmeta', { mode: dash(p.mode),
			dep: p.departure_ms > 0 ? fmtTime(new Date(p.departure_ms).toISOString()) : '—', target: fmtKWh(p.target_wh),
			short: p.short ? fmtKWh(p.shortfall_wh) + ' kWh' : t('no'), src: dash(n.source) }) }), planBox));
		if (xv.length) {
			const step = { paths: uPlot.paths.stepped({ align: 1 }) };
			planChart = new uPlot({ width: 900, height: 240, series: [{ label: t('col.time') },
				{ label: t('si.actual'), stroke: '#1769aa', width: 2, fill: 'rgba(23,105,170,0.15)', ...step },
				{ label: t('si.planned'), stroke: '#2e7d32', width: 2, dash: [6, 4], ...step }],
			axes: [{ space: 70 }, { size: 60, label: 'kW' }] },
			[xv, xv.map((x) => (act.has(x) ? (act.get(x).import_w - act.get(x).export_w) / 1000 : null)), xv.map((x) => (pl.has(x) ? pl.get(x) / 1000 : null))], planBox);
		}
	}
	if (cdr instanceof Error) {
		root.append(section('se.cdr', h('p', { class: 'hint', id: 'se-nocdr', text: cdr.status === 409 ? t('se.nocdr') : t('error') + cdr.message })));
	} else {
		const rows = cdr.tiers.map((x) => h('tr', { 'data-tier': x.tier }, h('td', {}, h('i', { class: 'sw tier-' + x.tier }), t('tier.' + x.tier)),
			h('td', { class: 'num', text: x.kwh.toFixed(3) }), h('td', { class: 'num', text: fmtYuan(x.fen) })));
		rows.push(h('tr', { class: 'sum' }, h('td', { text: t('cdr.import') }), h('td', { class: 'num', text: cdr.import_kwh.toFixed(3) }), h('td', { class: 'num', text: fmtYuan(cdr.import_fen) })));
		rows.push(h('tr', { 'data-row': 'export' }, h('td', { text: t('cdr.export') }), h('td', { class: 'num', text: cdr.export_kwh.toFixed(3) }), h('td', { class: 'num', text: (cdr.export_fen ? '−' : '') + fmtYuan(cdr.export_fen) })));
		rows.push(h('tr', {}, h('td', { text: t('cdr.service') }), h('td', {}), h('td', { class: 'num', text: fmtYuan(cdr.service_fen) })));
		rows.push(h('tr', { class: 'sum', id: 'cdr-total' }, h('td', { text: t('cdr.total') }), h('td', {}), h('td', { class: 'num', text: fmtYuan(cdr.total_fen) })));
		root.append(section('se.cdr', h('p', { class: 'meta', text: t('se.cdrmeta', { tariff: cdr.tariff.id, from: cdr.tariff.valid_from, site: dash(cdr.site), n: cdr.readings.import, d: cdr.readings.dropped }) }),
			h('table', { class: 'grid narrow', id: 'se-cdr' }, h('thead', {}, h('tr', {}, ['col.tier', 'col.energy', 'col.money'].map((c) => h('th', { text: t(c) })))), h('tbody', {}, rows))));
	}
	return planChart;
}

// ---- admin: accounts, API tokens, audit log
function formResult() { return h('p', { class: 'result', role: 'status' }); }
async function tryDo(out, fn, okText) {
	out.className = 'result';
	out.textContent = '';
	try {
		await fn();
		if (okText) { out.className = 'result ok'; out.textContent = okText; }
		return true;
	} catch (x) {
		out.className = 'result bad';
		out.textContent = t('error') + (x.status === 403 ? t('forbidden') : x.message);
		return false;
	}
}
// ---- id tokens (charging cards, RFID and app tokens; not the API tokens)
const IT_STATUS = ['Accepted', 'Blocked', 'Expired', 'Invalid'];
const IT_BADGE = { Accepted: 'accepted', Blocked: 'rejected', Expired: 'pending', Invalid: 'faulted' };
const itFilter = { q: '', status: '', group: '', site: '', offset: 0, limit: 50 };
function itStatusSelect(value, attrs, any) {
	const opts = (any ? [['', t('col.status') + ': ' + t('st.any')]] : []).concat(IT_STATUS.map((s) => [s, t('its.' + s)]));
	return h('select', attrs, opts.map(([v, l]) => h('option', { value: v, text: l, selected: v === value })));
}
async function pageIdTokens() {
	const f = itFilter;
	const out = formResult();
	const q = h('input', { id: 'it-search', value: f.q, placeholder: t('it.search') });
	const status = itStatusSelect(f.status, { id: 'it-status-filter', 'aria-label': t('col.status') }, true);
	const group = h('input', { id: 'it-group-filter', value: f.group, placeholder: t('it.group') });
	const site = h('input', { id: 'it-site-filter', value: f.site, placeholder: t('col.site') });
	const filters = h('form', { class: 'filters', id: 'it-filters' }, q, status, group, site, h('button', { type: 'submit', text: t('st.apply') }));
	filters.addEventListener('submit', (e) => {
		e.preventDefault();
		Object.assign(f, { q: q.value.trim(), status: status.value, group: group.value.trim(), site: site.value.trim(), offset: 0 });
		pageIdTokens();
	});
	let add = null;
	if (canCommand()) {
		const id = h('input', { id: 'it-id', autocomplete: 'off', required: true, placeholder: t('it.id') });
		const st = itStatusSelect('Accepted', { id: 'it-status', 'aria-label': t('col.status') }, false);
		const exp = h('input', { id: 'it-expiry', type: 'date', title: t('col.expiry'), 'aria-label': t('col.expiry') });
		const grp = h('input', { id: 'it-group', autocomplete: 'off', placeholder: t('it.group') });
		const ste = h('input', { id: 'it-site', autocomplete: 'off', placeholder: t('col.site') });
		const form = h('form', { class: 'filters', id: 'it-form' }, id, st, h('label', {}, t('col.expiry') + ' ', exp), grp, ste,
			h('button', { type: 'submit', class: 'ok', id: 'it-create', text: t('it.add') }));
		form.addEventListener('submit', async (e) => {
			e.preventDefault();
			const b = { id: id.value.trim(), status: st.value };
			// valid to the end of the chosen day, in the operator's zone
			if (exp.value) b.expiry = new Date(exp.value + 'T23:59:59').toISOString();
			if (grp.value.trim()) b.group = grp.value.trim();
			if (ste.value.trim()) b.site = ste.value.trim();
			if (await tryDo(out, () => api('POST', '/api/id-tokens', b), t('it.created', { n: b.id }))) {
				const keep = out.textContent;
				await pageIdTokens();
				document.querySelector('#view .result').textContent = keep;
				document.querySelector('#view .result').className = 'result ok';
			}
		});
		add = section('it.add', form);
	}
	const p = new URLSearchParams({ limit: f.limit, offset: f.offset });
	for (const k of ['q', 'status', 'group', 'site']) if (f[k]) p.set(k, f[k]);
	const res = await api('GET', '/api/id-tokens?' + p);
	const rows = res.id_tokens.map((x) => {
		const enc = encodeURIComponent(x.id);
		const blocked = x.status !== 'Accepted';
		return h('tr', { 'data-idtoken': x.id },
			h('td', {}, h('code', { text: x.id })), h('td', { class: 'status' }, badge(t('its.' + x.status), IT_BADGE[x.status])),
			h('td', { text: x.expiry ? fmtTime(x.expiry) : '—' }), h('td', { text: dash(x.group) }), h('td', { text: dash(x.site) }),
			canCommand() ? h('td', {}, h('span', { class: 'actions' },
				h('button', { class: blocked ? 'ok it-block' : 'it-block', text: blocked ? t('it.unblock') : t('it.block'),
					onclick: async () => { if (await tryDo(out, () => api('PUT', '/api/id-tokens/' + enc, { status: blocked ? 'Accepted' : 'Blocked' }))) pageIdTokens(); } }),
				h('button', { class: 'danger it-delete', text: t('it.delete'),
					onclick: async () => { if (confirm(t('it.delconfirm', { n: x.id })) && await tryDo(out, () => api('DELETE', '/api/id-tokens/' + enc))) pageIdTokens(); } })))
				: null);
	});
	const cols = ['it.id', 'col.status', 'col.expiry', 'it.group', 'col.site'];
	if (canCommand()) cols.push('col.actions');
	view().replaceChildren(h('div', { class: 'page' }, h('h1', { text: t('it.title') }), h('p', { class: 'hint', text: t('it.hint') }),
		add, out, filters,
		h('table', { class: 'grid', id: 'idtokens' }, h('thead', {}, h('tr', {}, cols.map((c) => h('th', { text: t(c) })))), h('tbody', { id: 'it-rows' }, rows)),
		h('div', { class: 'pager' },
			h('button', { id: 'it-prev', text: t('st.prev'), disabled: f.offset === 0, onclick: () => { f.offset = Math.max(0, f.offset - f.limit); pageIdTokens(); } }),
			h('span', { id: 'it-range', text: t('st.page', { a: res.total ? f.offset + 1 : 0, b: f.offset + res.id_tokens.length, n: res.total }) }),
			h('button', { id: 'it-next', text: t('st.next'), disabled: f.offset + f.limit >= res.total, onclick: () => { f.offset += f.limit; pageIdTokens(); } }))));
}

const ROLES = ['viewer', 'operator', 'admin'];
function roleSelect(value, attrs) {
	return h('select', attrs || {}, ROLES.map((r) => h('option', { value: r, text: t('role.' + r), selected: r === value })));
}

async function pageAccounts() {
	const res = await api('GET', '/api/accounts');
	const out = formResult();
	const name = h('input', { id: 'ac-name', autocomplete: 'off', placeholder: t('col.user'), required: true });
	const pw = h('input', { id: 'ac-password', type: 'password', autocomplete: 'new-password', minlength: 12, placeholder: t('ac.pwhint'), required: true });
	const role = roleSelect('viewer', { id: 'ac-role' });
	const form = h('form', { class: 'filters', id: 'ac-form' }, name, pw, role, h('button', { type: 'submit', class: 'ok', id: 'ac-create', text: t('ac.add') }));
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		if (await tryDo(out, () => api('POST', '/api/accounts', { username: name.value.trim(), password: pw.value, role: role.value })))
			pageAccounts();
	});
	const rows = res.accounts.map((a) => {
		const enc = encodeURIComponent(a.name);
		return h('tr', { 'data-account': a.name, class: a.disabled ? 'disabled' : null },
			h('td', { text: a.name }),
			h('td', {}, roleSelect(a.role, { class: 'ac-role', 'aria-label': t('col.role'),
				onchange: async (e) => { if (await tryDo(out, () => api('PUT', '/api/accounts/' + enc, { role: e.target.value }), t('ac.saved', { n: a.name }))) pageAccounts(); else e.target.value = a.role; } })),
			h('td', {}, a.disabled ? badge(t('ac.disabled'), 'rejected') : badge(t('ac.enabled'), 'accepted')),
			h('td', { text: fmtTime(a.created) }), h('td', { text: fmtTime(a.updated) }),
			h('td', {}, h('button', { class: a.disabled ? 'ok ac-toggle' : 'danger ac-toggle', text: a.disabled ? t('ac.enable') : t('ac.disable'),
				onclick: async () => { if (await tryDo(out, () => api('PUT', '/api/accounts/' + enc, { disabled: !a.disabled }))) pageAccounts(); } })));
	});
	view().replaceChildren(h('div', { class: 'page' }, h('h1', { text: t('ac.title') }),
		section('ac.add', form), out,
		h('table', { class: 'grid', id: 'accounts' }, h('thead', {}, h('tr', {}, ['col.user', 'col.role', 'col.status', 'col.created', 'col.updated', 'col.actions'].map((c) => h('th', { text: t(c) })))), h('tbody', {}, rows))));
}

async function pageTokens(shown) {
	const res = await api('GET', '/api/tokens');
	const out = formResult();
	const name = h('input', { id: 'tk-name', autocomplete: 'off', placeholder: t('tk.name'), required: true });
	const role = roleSelect('viewer', { id: 'tk-role' });
	const form = h('form', { class: 'filters', id: 'tk-form' }, name, role, h('button', { type: 'submit', class: 'ok', id: 'tk-create', text: t('tk.add') }));
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		let made = null;
		if (await tryDo(out, async () => { made = await api('POST', '/api/tokens', { name: name.value.trim(), role: role.value }); }))
			pageTokens(made);
	});
	const rows = res.tokens.map((x) => h('tr', { 'data-token': x.id },
		h('td', { class: 'num', text: x.id }), h('td', { text: x.name }), h('td', { text: t('role.' + x.role) }), h('td', { text: dash(x.created_by) }),
		h('td', { text: fmtTime(x.created) }), h('td', { text: fmtTime(x.last_used) }),
		h('td', {}, x.revoked ? badge(t('tk.revoked') + ' ' + fmtTime(x.revoked_at), 'rejected') : badge(t('tk.active'), 'accepted')),
		h('td', {}, x.revoked ? '' : h('button', { class: 'danger tk-revoke', text: t('tk.revoke'),
			onclick: async () => { if (confirm(t('tk.confirm', { n: x.name })) && await tryDo(out, () => api('DELETE', '/api/tokens/' + x.id))) pageTokens(); } }))));
	view().replaceChildren(h('div', { class: 'page' }, h('h1', { text: t('tk.title') }), h('p', { class: 'hint', text: t('tk.hint') }),
		section('tk.add', form), out,
		shown ? h('div', { class: 'confirm', id: 'tk-secret' }, h('strong', { text: t('tk.once', { n: shown.name }) }), h('code', { id: 'tk-secret-value', text: shown.token })) : null,
		h('table', { class: 'grid', id: 'tokens' }, h('thead', {}, h('tr', {}, ['col.id', 'tk.name', 'col.role', 'tk.by', 'col.created', 'tk.used', 'col.status', 'col.actions'].map((c) => h('th', { text: t(c) })))), h('tbody', {}, rows))));
}

const auPage = { offset: 0, limit: 50 };
async function pageAudit() {
	const res = await api('GET', '/api/audit?limit=' + auPage.limit + '&offset=' + auPage.offset);
	const rows = res.audit.map((a) => h('tr', { 'data-audit': a.id }, h('td', { class: 'num', text: a.id }), h('td', { text: fmtTime(a.time) }),
		h('td', { text: a.who }), h('td', { text: a.method }), h('td', { class: 'path', text: a.path }),
		h('td', {}, badge(String(a.status), a.status < 300 ? 'accepted' : a.status < 500 ? 'rejected' : 'failed')), h('td', { text: dash(a.peer) })));
	view().replaceChildren(h('div', { class: 'page' }, h('h1', { text: t('au.title') }),
		h('table', { class: 'grid', id: 'audit' }, h('thead', {}, h('tr', {}, ['col.id', 'col.when', 'col.who', 'au.method', 'au.path', 'col.status', 'au.peer'].map((c) => h('th', { text: t(c) })))), h('tbody', {}, rows)),
		h('div', { class: 'pager' },
			h('button', { id: 'au-prev', text: t('st.prev'), disabled: auPage.offset === 0, onclick: () => { auPage.offset = Math.max(0, auPage.offset - auPage.limit); pageAudit(); } }),
			h('span', { id: 'au-range', text: t('au.range', { a: res.audit.length ? auPage.offset + 1 : 0, b: auPage.offset + res.audit.length }) }),
			h('button', { id: 'au-next', text: t('st.next'), disabled: res.audit.length < auPage.limit, onclick: () => { auPage.offset += auPage.limit; pageAudit(); } }))));
}

// ---- a swap station (docs/swap.md): its rack and today's swaps
async function pageSwap(id) {
	const enc = encodeURIComponent(id);
	const [rep, rack, slots, orders] = await Promise.all([api('GET', '/api/stations/' + enc + '/swap-report'),
		api('GET', '/api/stations/' + enc + '/rack'), api('GET', '/api/stations/' + enc + '/slots'),
		api('GET', '/api/swap/orders?station=' + enc)]);
	const pct = (v) => (v === null || v === undefined ? '—' : v.toFixed(1) + ' %');
	const due = {};
	for (const p of rack.packs) due[p.serial] = p;
	const slotRow = (sl) => {
		const p = sl.pack, r = p ? due[p.serial] : null;
		return h('tr', { 'data-slot': sl.evse_id }, h('td', { text: sl.evse_id }), h('td', { class: 'status' }, badge(sl.status)),
			h('td', { text: p ? p.serial : '—' }), h('td', { text: p ? dash(p.type) : '—' }), h('td', { text: p ? pct(p.soc) : '—' }),
			h('td', {}, p ? pct(p.soh) : '—', p && p.flagged ? [' ', badge(t('sw.flagged'), 'faulted')] : null),
			h('td', { text: r ? fmtTime(r.ready_by) + ' (' + t('sw.basis.' + r.basis) + ')' : '—' }));
	};
	const orderRow = (o) => h('tr', { 'data-order': o.id }, h('td', { text: fmtTime(o.done_at || o.created_at) }), h('td', { text: o.vehicle }),
		h('td', { text: o.packs_out.join(', ') + ' (' + pct(o.soc_out) + ')' }), h('td', { text: o.packs_in.join(', ') + ' (' + pct(o.soc_in) + ')' }),
		h('td', { text: fmtKWh(o.delta_wh) }), h('td', { text: o.tier ? t('tier.' + o.tier) : '—' }), h('td', {}, badge(t('sw.state.' + o.state), o.state)));
	const tiers = ['deep_valley', 'valley', 'flat', 'peak', 'critical_peak'];
	view().replaceChildren(h('div', { class: 'page', id: 'swap-page' },
		h('h1', {}, t('sw.title') + ' ' + id),
		h('p', { class: 'meta', text: rep.date + (rep.tariff ? ' · ' + rep.tariff : '') }),
		h('div', { class: 'cards' }, card('sw.swaps', String(rep.swaps), 'sw-swaps'),
			card('sw.ontime', rep.ready_on_time + ' / ' + rep.promised, 'sw-ontime'),
			card('sw.energy', fmtKWh(rep.energy_wh) + ' kWh', 'sw-energy')),
		section('sw.bytier', table(tiers.map((k) => 'tier.' + k), [h('tr', { id: 'sw-tiers' }, tiers.map((k) => h('td', { text: fmtKWh(rep.energy_wh_by_tier[k]) })))])),
		section('sw.rack', table(['col.evse', 'col.status', 'sw.pack', 'sw.type', 'sw.soc', 'sw.soh', 'sw.readyby'], slots.slots.map(slotRow))),
		section('sw.today', table(['col.when', 'sw.vehicle', 'sw.out', 'sw.in', 'col.energy', 'sw.tier', 'col.status'], orders.orders.map(orderRow)))));
	S.onEvent = null;
}

// ---- routing
async function route() {
	applyText();
	document.getElementById('who').textContent = S.me ? S.me.user + ' (' + t('role.' + S.me.role) + ')' : '';
	const [, page, arg, arg2] = (location.hash || '#/overview').split('/');
	if (!S.me && page !== 'login') { location.hash = '#/login'; return; }
	if (S.me && page === 'login') { location.hash = '#/overview'; return; }
	S.page = page;
	sendPowerWish();
	if (S.chart) { S.chart.destroy(); S.chart = null; }
	if (S.chart2) { S.chart2.destroy(); S.chart2 = null; }
	S.onEvent = null;
	for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.getAttribute('href') === '#/' + page || a.getAttribute('href') === '#/' + page + 's');
	view().replaceChildren(h('p', { class: 'hint', text: t('loading') }));
	try {
		if (page === 'login') return pageLogin();
		document.getElementById('top').hidden = false;
		if (page === 'stations') await pageStations();
		else if (page === 'station') await pageStation(decodeURIComponent(arg));
		else if (page === 'swap') await pageSwap(decodeURIComponent(arg));
		else if (page === 'sessions') await pageSessions();
		else if (page === 'session') await pageSession(arg);
		else if (page === 'sites') await pageSites();
		else if (page === 'site') await pageSite(decodeURIComponent(arg), arg2 && /^\d{4}-\d\d-\d\d$/.test(arg2) ? arg2 : null);
		else if (page === 'tokens') await pageTokens();
		else if (page === 'idtokens') await pageIdTokens();
		else if (page === 'accounts') await pageAccounts();
		else if (page === 'audit') await pageAudit();
		else await pageOverview();
	} catch (x) {
		if (x.status === 401) return;
		view().replaceChildren(h('p', { class: 'error', text: t('error') + (x.status === 403 ? t('forbidden') : x.message) }));
	}
}

function start() {
	document.getElementById('who').textContent = S.me ? S.me.user + ' (' + t('role.' + S.me.role) + ')' : '';
	for (const el of document.querySelectorAll('.admin-only')) el.hidden = !(S.me && S.me.role === 'admin');
	connectLive();
}

async function boot() {
	initLang();
	document.getElementById('logout').addEventListener('click', async () => {
		try { await api('POST', '/api/logout'); } catch (e) { /* gone already */ }
		signedOut();
	});
	window.addEventListener('hashchange', route);
	await syncClock();
	try {
		S.me = await api('GET', '/api/me');
		start();
	} catch (e) {
		S.me = null;
	}
	route();
}
boot();
