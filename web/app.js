// Operator dashboard: polls the REST API; no build step, no inline script (strict CSP).
'use strict';

function cell(tr, text, cls) {
	const td = document.createElement('td');
	td.textContent = text === null || text === undefined ? '—' : String(text);
	if (cls) td.className = cls;
	tr.appendChild(td);
}

async function getJSON(path) {
	const r = await fetch(path, { cache: 'no-store' });
	if (!r.ok) throw new Error(path + ': ' + r.status);
	return r.json();
}

async function refresh() {
	try {
		const h = await getJSON('/api/health');
		document.getElementById('health').textContent = `${h.status}, ${h.connected} connected, v${h.version}`;
		const { stations } = await getJSON('/api/stations?limit=500');
		const sb = document.querySelector('#stations tbody');
		sb.replaceChildren();
		for (const s of stations) {
			const tr = document.createElement('tr');
			cell(tr, s.id); cell(tr, s.site); cell(tr, s.site_kind); cell(tr, s.protocol);
			cell(tr, s.registration); cell(tr, s.online ? 'online' : 'offline', s.online ? 'on' : 'off');
			cell(tr, s.last_seen); cell(tr, [s.vendor, s.model].filter(Boolean).join(' / '));
			sb.appendChild(tr);
		}
		const { sessions } = await getJSON('/api/sessions?limit=100');
		const tb = document.querySelector('#sessions tbody');
		tb.replaceChildren();
		for (const s of sessions) {
			const tr = document.createElement('tr');
			cell(tr, s.id); cell(tr, s.station); cell(tr, s.connector_id); cell(tr, s.id_tag);
			cell(tr, s.start); cell(tr, s.stop); cell(tr, s.energy_wh); cell(tr, s.stop_reason);
			tb.appendChild(tr);
		}
	} catch (e) {
		document.getElementById('health').textContent = 'API unreachable: ' + e.message;
	}
}

refresh();
setInterval(refresh, 2000);
