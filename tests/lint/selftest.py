#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Self-test of tools/lint_layers.py: every check must report the violation planted for it in a
# small synthetic tree (at the planted file:line) and nothing in a tree that keeps the rules.
import importlib.util
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True  # do not leave tools/__pycache__ in the source tree
lint_path = sys.argv[1]
spec = importlib.util.spec_from_file_location('lint_layers', lint_path)
lint = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lint)
source_root = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(lint_path)), '..'))

# A tree that keeps every rule: one file per csms module, includes pointing down the table.
CLEAN = {
    'csms/core/log.h': '#pragma once\nint log_x(void);\n',
    'csms/core/log.c': '#include "log.h"\n\nint log_x(void)\n{\n\treturn 0;\n}\n',
    'csms/store/store.h': '#pragma once\n#include "../core/log.h"\n',
    'csms/store/store_sqlite.c': '#include <sqlite3.h>\n\n#include "store.h"\n',
    'csms/svc/svc.h': '#pragma once\n#include "../store/store.h"\n',
    'csms/svc/svc.c': '#include "svc.h"\n\n#include "../core/log.h"\n',
    'csms/adapter.h': '#pragma once\n#include <jansson.h>\n\n#include "ocpp.h"\n',
    'csms/adapter.c': '#include "adapter.h"\n\n#include "svc/svc.h"\n',
    'csms/ocpp16/v16.c': '#include "../adapter.h"\n#include "../svc/svc.h"\n',
    'csms/dispatch.h': '#pragma once\n#include "adapter.h"\n',
    'csms/conn.h': '#pragma once\n#include "dispatch.h"\n',
    'csms/transport/ws_server.c': '#include <libwebsockets.h>\n\n#include "../api/api.h"\n'
                                  '#include "../conn.h"\n',
    'csms/api/api.h': '#pragma once\n#include "../svc/svc.h"\n',
    'csms/link_conn.c': '#include "adapter.h"\n#include "conn.h"\n#include "svc/svc.h"\n',
    'csms/app.h': '#pragma once\n#include "core/log.h"\n',
    'csms/app.c': '#include "app.h"\n\n#include "conn.h"\n#include "store/store.h"\n'
                  '#include "transport/transport.h"\n',
    'csms/transport/transport.h': '#pragma once\n',
    'csms/import.c': '#include "core/log.h"\n#include "store/store.h"\n',
    'csms/main.c': '#include "app.h"\n#include "core/log.h"\n',
    'ocpp/ocpp.h': '#pragma once\n#include <jansson.h>\n',
    'chargepoint-sim/cpclient.c': '#include <libwebsockets.h>\n',
    'chargepoint-sim/sim/cp.c': '#include "ocpp.h"\n',
    'chargepoint-sim/meson.build': "lib = static_library('x', 'cp.c', dependencies: libocpp_dep)\n",
    'tests/unit/test_store.c': '#include <sqlite3.h>\n',
    'csms/store/store_pg.c': '#include <libpq-fe.h>\n\n#include "store.h"\n',
    'db/migrations/0001_init.sql': '-- schema 1\n',
    'db/pg/0001_init.sql': '-- schema 1\n',
}

# One planted violation per check: (check, file, text, the line the check must name).
PLANTED = [
    ('rule-adapters-no-app-store', 'csms/ocpp16/v16.c', '#include "../app.h"\n', 1),
    ('rule-adapters-no-app-store', 'csms/adapter.c', '#include "adapter.h"\n#include "store/store.h"\n', 2),
    ('rule-api-svc-no-conn-lws', 'csms/api/api.c', '#include "../svc/svc.h"\n#include "../conn.h"\n', 2),
    ('rule-api-svc-no-conn-lws', 'csms/svc/svc.c', '#include "svc.h"\n#include <libwebsockets.h>\n', 2),
    ('rule-sqlite-only-store', 'csms/svc/svc.c', '#include "svc.h"\n#include <sqlite3.h>\n', 2),
    ('rule-sqlite-only-store', 'csms/api/api.c', '#include "../svc/svc.h"\n#include <libpq-fe.h>\n', 2),
    ('config-keys-documented', 'csms/core/cfg.c', '    {"secret_knob", KEY_INT, F(knob), 0, 1},\n', 1),
    ('pg-migration-twins', 'db/migrations/0002_more.sql', '-- schema 2 without a twin\n', 1),
    ('pg-migration-twins', 'db/pg/0003_only_pg.sql', '-- schema 3 without a twin\n', 1),
    ('rule-lws-only-transport', 'csms/conn.c', '#include "conn.h"\n\n#include <libwebsockets.h>\n', 3),
    ('rule-svc-no-jansson', 'csms/svc/svc.c', '#include <jansson.h>\n', 1),
    ('rule-x509-only-ca', 'csms/api/api.c', '#include <openssl/x509.h>\n', 1),
    ('rule-sim-no-csms', 'chargepoint-sim/sim/cp.c', '#include "ocpp.h"\n#include "core/log.h"\n', 2),
    ('rule-sim-no-csms', 'chargepoint-sim/sim/cp.c', '#include "../../csms/app.h"\n', 1),
    ('rule-ocpp-standalone', 'ocpp/rpc.c', '#include "ocpp.h"\n#include "conn.h"\n', 2),
    ('sim-meson-deps', 'chargepoint-sim/meson.build',
     "# the simulator\nlib = static_library('x', 'cp.c',\n\tdependencies: libcsms_dep)\n", 3),
    ('module-deps', 'csms/svc/svc.c', '#include "svc.h"\n#include "../app.h"\n', 2),
    ('module-deps', 'csms/newthing.c', '#include "core/log.h"\n', 1),
    ('cycles-files', 'csms/core/log.h', '#pragma once\n#include "../store/store.h"\n', 2),
    ('cycles-modules', 'csms/transport/transport.h', '#pragma once\n#include "../app.h"\n', 2),
    ('clang-format', 'csms/core/log.c', '#include "log.h"\nint log_x(void) { return 0; }\n', 2),
]


def write(root, files):
    for rel, text in files.items():
        p = os.path.join(root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'w') as fh:
            fh.write(text)


def run(root, check):
    return lint.CHECKS[check](root, lint.scan(root))


def main():
    have_cf = bool(os.environ.get('CLANG_FORMAT') or lint.find_clang_format())
    failures = []
    checks = sorted(lint.CHECKS)
    planted_checks = {p[0] for p in PLANTED}
    for c in checks:
        if c not in planted_checks:
            failures.append('%s: no planted violation in this self-test' % c)

    with tempfile.TemporaryDirectory() as tmp:
        clean = os.path.join(tmp, 'clean')
        write(clean, CLEAN)
        shutil.copy(os.path.join(source_root, '.clang-format'), clean)
        for c in checks:
            if c == 'clang-format' and not have_cf:
                print('clean tree: clang-format not installed, its clean case not run')
                continue
            bad = run(clean, c)
            if bad:
                failures.append('%s: reports the clean tree: %s' % (c, bad))
        for n, (c, rel, text, line) in enumerate(PLANTED):
            root = os.path.join(tmp, 'bad%d' % n)
            shutil.copytree(clean, root)
            write(root, {rel: text})
            bad = run(root, c)
            want = '%s:%d' % (rel, line)
            if not any(want in b for b in bad):
                failures.append('%s: did not report %s (%s): got %s' % (c, want, text.strip(), bad))
            else:
                print('%s: fires at %s' % (c, want))
    for f in failures:
        print('FAIL ' + f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
