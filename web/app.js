// Operator dashboard: hash-routed pages over the REST API, live updates from /api/live.
// No build step, no inline script or style (strict CSP). Pages load one page of rows at a time
// and never poll every station.
'use strict';

const S = { me: null, lang: 'en', ws: null, page: null, onEvent: null, chart: null };

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
	if (body !== undefined) {
		opt.headers['Content-Type'] = 'application/json';
		opt.body = JSON.stringify(body);
	}
	if (method !== 'GET' && S.me && S.me.csrf) opt.headers['X-CSRF-Token'] = S.me.csrf;
	const r = await fetch(path, opt);
	let data = null;
	try { data = await r.json(); } catch (e) { data = null; }
	if (r.status === 401 && path !== '/api/login' && path !== '/api/me') {
		S.me = null;
		location.hash = '#/login';
	}
	if (!r.ok) {
		const err = new Error((data && data.error) || ('HTTP ' + r.status));
		err.status = r.status;
		throw err;
	}
	return data;
}

// ---- live updates
function connectLive() {
	if (S.ws) return;
	const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/live', 'csms-live');
	S.ws = ws;
	const ind = document.getElementById('live');
	ws.onopen = () => { ind.className = 'live on'; ind.dataset.i18n = 'live.on'; ind.textContent = t('live.on'); sendPowerWish(); };
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
		api('GET', '/api/summary'), api('GET', '/api/summary/power'),
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
	if (!xs.length) { xs.push(Date.now() / 1000); ys.push(sum.power_w / 1000); }
	// the x axis is the day so far (one point at start-up would otherwise span years)
	const day0 = Date.parse(sum.day_start) / 1000;
	S.chart = new uPlot({ width: 560, height: 240, series: [{}, { label: t('ov.power'), stroke: '#1769aa', fill: 'rgba(23,105,170,0.1)', width: 2 }],
		scales: { x: { time: true, range: () => [day0, Math.max(day0 + 3600, xs[xs.length - 1], Date.parse(sum.time) / 1000)] } },
		axes: [{}, { size: 60 }], legend: { show: false } }, [xs, ys], chartBox);
	const fRows = faulted.connectors.map((c) => h('tr', {}, h('td', {}, h('a', { href: '#/station/' + encodeURIComponent(c.station), text: c.station })),
		h('td', { text: c.evse_id + '/' + c.connector_id }), h('td', { text: dash(c.error_code) }), h('td', { text: fmtTime(c.updated) })));
	const pRows = pending.stations.map((s) => h('tr', { 'data-station': s.id }, h('td', {}, h('a', { href: '#/station/' + encodeURIComponent(s.id), text: s.id })),
		h('td', { text: dash(s.site_kind) }), h('td', { text: fmtTime(s.last_seen) }),
		h('td', {}, canCommand() ? [h('button', { class: 'ok', text: t('accept'), onclick: () => decide(s.id, 'Accepted') }), ' ',
			h('button', { class: 'danger', text: t('reject'), onclick: () => decide(s.id, 'Rejected') })] : '')));
	root.append(h('div', { class: 'cols' },
		section('ov.faulted', fRows.length ? table(['col.station', 'col.connector', 'col.error', 'col.updated'], fRows) : h('p', { text: t('ov.none') })),
		section('ov.pending', pRows.length ? table(['col.station', 'col.kind', 'col.last_seen', 'col.actions'], pRows, 'grid') : h('p', { text: t('ov.none') }))));
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
				const s2 = await api('GET', '/api/summary');
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

const stFilter = { q: '', kind: '', registration: '', online: '', status: '', offset: 0, limit: 50 };
async function pageStations() {
	const f = stFilter;
	const sel = (name, opts) => h('select', { name, onchange: (e) => { f[name] = e.target.value; } },
		opts.map(([v, label]) => h('option', { value: v, text: label, selected: f[name] === v })));
	const q = h('input', { id: 'st-search', value: f.q, 'data-i18n-ph': 'st.search', placeholder: t('st.search') });
	const form = h('form', { class: 'filters', id: 'st-filters' }, q,
		sel('kind', [['', t('col.kind') + ': ' + t('st.any')], ...['public', 'residential', 'rural', 'swap'].map((k) => [k, t('kind.' + k)])]),
		sel('registration', [['', t('col.registration') + ': ' + t('st.any')], ...['Accepted', 'Pending', 'Rejected'].map((k) => [k, t('reg.' + k)])]),
		sel('online', [['', t('col.online') + ': ' + t('st.any')], ['true', t('st.online')], ['false', t('st.offline')]]),
		sel('status', [['', t('col.status') + ': ' + t('st.any')], ...['Available', 'Charging', 'Preparing', 'Finishing', 'SuspendedEV', 'Faulted', 'Unavailable'].map((k) => [k, k])]),
		h('button', { type: 'submit', text: t('st.apply') }));
	form.addEventListener('submit', (e) => { e.preventDefault(); f.q = q.value.trim(); f.offset = 0; pageStations(); });
	const body = h('tbody', { id: 'st-rows' });
	const pager = h('div', { class: 'pager' });
	view().replaceChildren(h('div', { class: 'page' }, h('h1', { text: t('st.title') }), form,
		h('table', { class: 'grid', id: 'stations' }, h('thead', {}, h('tr', {}, ['col.online', 'col.id', 'col.site', 'col.kind', 'col.protocol', 'col.registration', 'col.last_seen', 'col.vendor'].map((c) => h('th', { text: t(c) })))), body),
		pager));
	const p = new URLSearchParams({ limit: f.limit, offset: f.offset });
	for (const k of ['kind', 'registration', 'online', 'status']) if (f[k]) p.set(k, f[k]);
	if (f.q) p.set('q', f.q);
	const res = await api('GET', '/api/stations?' + p);
	const rows = new Map();
	for (const s of res.stations) {
		const tr = h('tr', { 'data-station': s.id },
			h('td', {}, dot(s.online)), h('td', {}, h('a', { href: '#/station/' + encodeURIComponent(s.id), text: s.id })),
			h('td', { text: dash(s.site) }), h('td', { text: s.site_kind ? t('kind.' + s.site_kind) : '—' }),
			h('td', { text: dash(s.protocol) }), h('td', {}, badge(t('reg.' + s.registration), s.registration.toLowerCase())),
			h('td', { class: 'last-seen', text: fmtTime(s.last_seen) }), h('td', { text: dash([s.vendor, s.model].filter(Boolean).join(' / ')) }));
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
	const active = sess.sessions[0];
	const actions = canCommand() ? h('div', { class: 'actions', id: 'cmd-actions' },
		h('label', {}, t('cmd.tag') + ' ', tag), h('label', {}, t('cmd.evse') + ' ', evse),
		h('button', { id: 'cmd-remote-start', text: t('cmd.remote-start'), onclick: () => ask('remote-start', () => ({ id_tag: tag.value, evse_id: Number(evse.value) })) }),
		active ? h('button', { id: 'cmd-remote-stop', text: t('cmd.remote-stop'), onclick: () => ask('remote-stop', () => ({ session_id: active.id })) }) : null,
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
		h('div', { class: 'cols' },
			section('sd.connectors', h('table', { class: 'grid', id: 'sd-connectors' }, h('thead', {}, h('tr', {}, ['col.connector', 'col.status', 'col.error', 'col.updated'].map((c) => h('th', { text: t(c) })))), connBody)),
			section('sd.session', h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['col.id', 'col.station', 'col.connector', 'col.token', 'col.start', 'col.stop', 'col.energy', 'col.duration'].map((c) => h('th', { text: t(c) })))), sessBody))),
		section('sd.commands', h('table', { class: 'grid' }, h('thead', {}, h('tr', {}, ['col.when', 'col.command', 'col.status', 'col.answer', 'col.who'].map((c) => h('th', { text: t(c) })))), cmdBody)),
		section('sd.history', table(['col.when', 'col.kindtext', 'col.detail'], hist.history.map((e) =>
			h('tr', {}, h('td', { text: fmtTime(e.time) }), h('td', { text: e.source + ' / ' + e.kind }), h('td', { text: dash(e.text) })))))));
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
		}
	};
}

function sessionRow(s) {
	return h('tr', { 'data-session': s.id }, h('td', {}, h('a', { href: '#/session/' + s.id, text: s.id })),
		h('td', {}, h('a', { href: '#/station/' + encodeURIComponent(s.station), text: s.station })),
		h('td', { text: s.evse_id + '/' + s.connector_id }), h('td', { text: dash(s.id_tag) }),
		h('td', { text: fmtTime(s.start) }), h('td', {}, s.active ? badge(t('se.active'), 'charging') : fmtTime(s.stop)),
		h('td', { class: 'num', text: fmtKWh(s.energy_wh) }), h('td', { text: fmtDur(s.duration_s) }));
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
		h('table', { class: 'grid', id: 'sessions' }, h('thead', {}, h('tr', {}, ['col.id', 'col.station', 'col.connector', 'col.token', 'col.start', 'col.stop', 'col.energy', 'col.duration'].map((c) => h('th', { text: t(c) })))), body),
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
	view().replaceChildren(h('div', { class: 'page' }, h('h1', { text: t('se.detail', { id }) }),
		row ? table(['col.id', 'col.station', 'col.connector', 'col.token', 'col.start', 'col.stop', 'col.energy', 'col.duration'], [sessionRow(row)]) : null,
		section('se.chart', h('p', { class: 'meta', text: t('se.samples', { n: samples.length }) }), chartBox)));
	const e0 = ts.length ? byT.get(ts[0]).e : null;
	S.chart = new uPlot({ width: 900, height: 300, series: [{},
		{ label: t('se.power'), stroke: '#1769aa', width: 2, scale: 'kw' },
		{ label: t('se.energyk'), stroke: '#2e7d32', width: 2, scale: 'kw' },
		{ label: t('se.soc'), stroke: '#c77700', width: 2, scale: '%' }],
	axes: [{}, { scale: 'kw', size: 50 }, { scale: '%', side: 1, grid: { show: false } }] },
	[ts, ts.map((x) => byT.get(x).p), ts.map((x) => (byT.get(x).e === null || e0 === null ? null : byT.get(x).e - e0)), ts.map((x) => byT.get(x).soc)], chartBox);
	S.onEvent = null;
}

async function optionalList(path, key, unavailable, cols, rowFn, title) {
	const root = h('div', { class: 'page' }, h('h1', { text: t(title) }));
	view().replaceChildren(root);
	try {
		const res = await api('GET', path);
		root.append(table(cols, (res[key] || []).map(rowFn)));
	} catch (x) {
		root.append(h('p', { class: 'hint', text: x.status === 404 ? t(unavailable) : x.status === 403 ? t('forbidden') : t('error') + x.message }));
	}
	return root;
}

async function pageSites() {
	const root = await optionalList('/api/sites', 'sites', 'si.unavailable', ['col.id', 'col.kind', 'col.site'],
		(s) => h('tr', {}, h('td', { text: s.id }), h('td', { text: t('kind.' + s.kind) }), h('td', { text: dash(s.name) })), 'si.title');
	// SLOT: the site energy view (wt-energy / planner) mounts here: tariff bands, planned vs
	// actual power against the limit, valley share.
	root.append(h('section', { id: 'site-energy-slot', class: 'slot' }, h('h2', { text: t('si.energy') }), h('p', { class: 'hint', text: t('si.energy.slot') })));
	S.onEvent = null;
}
async function pageTokens() {
	await optionalList('/api/tokens', 'tokens', 'to.unavailable', ['col.token', 'col.status', 'col.expiry', 'col.site'],
		(x) => h('tr', {}, h('td', { text: x.token }), h('td', {}, badge(x.status)), h('td', { text: fmtTime(x.expiry) }), h('td', { text: dash(x.site) })), 'to.title');
	S.onEvent = null;
}
async function pageAccounts() {
	await optionalList('/api/users', 'users', 'ac.unavailable', ['col.user', 'col.role'],
		(u) => h('tr', {}, h('td', { text: u.user || u.username || u.name }), h('td', { text: u.role })), 'ac.title');
	S.onEvent = null;
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
	const [, page, arg] = (location.hash || '#/overview').split('/');
	if (!S.me && page !== 'login') { location.hash = '#/login'; return; }
	S.page = page === 'station' ? 'station' : page;
	sendPowerWish();
	if (S.chart) { S.chart.destroy(); S.chart = null; }
	S.onEvent = null;
	for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', a.getAttribute('href') === '#/' + page);
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
		else if (page === 'tokens') await pageTokens();
		else if (page === 'accounts') await pageAccounts();
		else await pageOverview();
	} catch (x) {
		view().replaceChildren(h('p', { class: 'error', text: t('error') + x.message }));
	}
}

function start() {
	document.getElementById('who').textContent = S.me ? S.me.user + ' (' + S.me.role + ')' : '';
	document.getElementById('nav-accounts').hidden = !(S.me && S.me.role === 'admin');
	connectLive();
}

async function boot() {
	initLang();
	document.getElementById('logout').addEventListener('click', async () => {
		try { await api('POST', '/api/logout'); } catch (e) { /* gone already */ }
		S.me = null;
		if (S.ws) S.ws.close();
		location.hash = '#/login';
	});
	window.addEventListener('hashchange', route);
	try {
		S.me = await api('GET', '/api/me');
		start();
	} catch (e) {
		S.me = null;
	}
	route();
}
boot();
