#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Fill a csms SQLite database (schema already migrated by csms) with N stations on sites of the
# four kinds, their connectors, and M sessions over the last 30 days. For bench/api-scale.sh.
import random, sqlite3, sys, time

db, n_st, n_se = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(8)
now = int(time.time() * 1000)
c = sqlite3.connect(db)
c.execute('PRAGMA journal_mode=WAL')
c.execute('PRAGMA synchronous=OFF')
kinds = ['public', 'residential', 'rural', 'swap']
sites = [('SITE-%05d' % i, kinds[i % 4]) for i in range(n_st // 20)]
c.executemany('INSERT INTO sites(id, kind, created_ms) VALUES (?, ?, ?)', [(s, k, now) for s, k in sites])
stations = ['QD-%06d' % i for i in range(n_st)]
c.executemany('INSERT INTO stations(id, site_id, registration, protocol, vendor, model, online, last_seen_ms, created_ms) '
              'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
              [(s, sites[i % len(sites)][0], 'Pending' if i % 500 == 0 else 'Accepted', 'ocpp1.6' if i % 3 else 'ocpp2.0.1',
                'Vendor', 'M%d' % (i % 7), 1 if i % 4 else 0, now - rnd.randint(0, 86400000), now) for i, s in enumerate(stations)])
status = ['Available'] * 6 + ['Charging'] * 3 + ['Faulted']
c.executemany('INSERT INTO connectors(station_id, evse_id, connector_id, status, updated_ms) VALUES (?, ?, 1, ?, ?)',
              [(s, e, rnd.choice(status), now) for s in stations for e in (1, 2)])
def sessions():
    for i in range(n_se):
        st = stations[rnd.randrange(n_st)]
        start = now - 30 * 86400000 + i * (30 * 86400000 // n_se)
        m0 = rnd.randint(0, 10 ** 7)
        yield (st, 1, 1, 'TAG-%05d' % rnd.randrange(20000), 'Accepted', start, m0, start + 3600000, m0 + rnd.randint(1000, 60000), 'Local', now)
c.executemany('INSERT INTO sessions(station_id, evse_id, connector_id, id_tag, auth_status, start_ms, meter_start_wh, stop_ms, '
              'meter_stop_wh, stop_reason, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', sessions())
c.commit()
c.execute('ANALYZE')
c.close()
