#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Architecture lint: include rules, the csms module table, include cycles, clang-format.

  tools/lint_layers.py [--root DIR] --check NAME [--check NAME ...]
  tools/lint_layers.py [--root DIR] --all          every check
  tools/lint_layers.py [--root DIR] --list         the check names, one a line
  tools/lint_layers.py [--root DIR] --graph        module include graph (edges with counts) and cycles

A check prints one line per violation (file:line: what) and exits 1 when it found any;
meson registers one test per check (tests/lint/meson.build). Python 3 standard library only.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

# ---------------------------------------------------------------------------- the tables
# Edit these; everything below them is machinery.

# Which module a file belongs to: the first prefix (relative to the source root) that matches.
# A csms/ file that matches none is itself a violation (new files must be placed in a module).
MODULES = [
    ('csms/main.c', 'main'),
    ('csms/app.', 'app'),
    ('csms/app_metrics.', 'app'),
    ('csms/cluster.', 'cluster'),  # several nodes on one PostgreSQL: leases, routing, NOTIFY
    ('csms/admin.', 'admin'),
    ('csms/transport/', 'transport'),
    ('csms/conn.', 'conn'),
    ('csms/dispatch.', 'dispatch'),
    ('csms/ocpp16/', 'adapters'),
    ('csms/ocpp201/', 'adapters'),
    ('csms/adapter.', 'adapters'),
    ('csms/svc/domain.h', 'domain'),
    ('csms/svc/', 'svc'),
    ('csms/store/', 'store'),
    ('csms/core/', 'core'),
    ('csms/api/', 'api'),
    ('csms/link_conn.', 'link_conn'),
    ('csms/import.', 'import'),
    ('csms/ca.', 'ca'),  # the operator's CA: the only X.509 code, svc's signer
    ('csms/tariff_', 'tariffs'),
    ('csms/plan_rt.', 'plan_rt'),  # the planner at run time: svc's state + JSON at its edge
    ('ocpp/', 'ocpp'),  # libocpp, shared with the simulator
    ('chargepoint-sim/cpclient.', 'cpclient'),
    ('chargepoint-sim/', 'cpsim'),
    ('tests/', 'tests'),
    ('bench/', 'bench'),
]

# The csms module table (DESIGN.md §2). Dependencies point down: a module may include its own
# files and any module BELOW it in LAYERS (skipping layers downward is fine; nothing points
# up), plus the modules in ALWAYS_ALLOWED. EXCEPT lists what a module must not include even
# though it is below (the API reaches charger connections only through svc's link).
#   main -> app -> cluster -> transport -> api -> link_conn -> conn -> dispatch -> adapters
#        -> plan_rt -> admin -> ca -> tariffs -> import -> svc -> store -> domain -> core -> ocpp
# admin: the users and backup commands (app_metrics.c, the /metrics text, is part of app).
# app is the composition root: it creates and wires every layer. link_conn implements svc's
# link interface on top of conn. domain (csms/svc/domain.h) is the domain's types and enums: a
# leaf every layer may use (the store persists them). libocpp is the bottom: the OCPP-J
# library shared with the simulator (core uses only its RFC 3339 parser).
LAYERS = ['main', 'app', 'cluster', 'transport', 'api', 'link_conn', 'conn', 'dispatch',
          'adapters', 'plan_rt', 'admin', 'ca', 'tariffs', 'import', 'svc', 'store', 'domain', 'core',
          'ocpp']
EXCEPT = {
    'api': ['link_conn', 'conn', 'dispatch', 'adapters'],
    'svc': ['ocpp'],
    'store': ['ocpp'],
    'domain': ['ocpp'],
}
CSMS_DEPS = {m: [d for d in LAYERS[i + 1:] if d not in EXCEPT.get(m, [])]
             for i, m in enumerate(LAYERS)}
ALWAYS_ALLOWED = ['core', 'domain']

# Header rules: (check name, files the rule covers, what they must not include, why).
# 'covers' and 'unless' are path prefixes; 'header' matches the include as written
# ("<sqlite3.h>" and "sqlite3.h" alike) or, for project headers, the resolved path prefix.
HEADER_RULES = [
    ('rule-adapters-no-app-store', ['csms/ocpp16/', 'csms/ocpp201/', 'csms/adapter.'], [],
     ['file:csms/app.h', 'file:csms/store/'],
     'adapters reach the domain through svc, never app.h or the store'),
    ('rule-api-svc-no-conn-lws', ['csms/api/', 'csms/svc/'], [],
     ['file:csms/conn.h', 'hdr:libwebsockets.h'],
     'api/ and svc/ reach stations through svc and the link interface, not conn or lws'),
    ('rule-sqlite-only-store', [''], ['csms/store/', 'tests/'],
     ['hdr:sqlite3.h', 'hdr:libpq-fe.h'],
     'only csms/store/ knows SQL (sqlite3.h, libpq-fe.h)'),
    ('rule-lws-only-transport', [''], ['csms/transport/', 'chargepoint-sim/cpclient.', 'tests/', 'bench/ws_null.'],
     ['hdr:libwebsockets.h'],
     'only csms/transport/ and the simulator\'s cpclient are lws code'),
    ('rule-x509-only-ca', [''], ['csms/ca.', 'tests/', 'chargepoint-sim/'],
     ['path:openssl/x509.h', 'path:openssl/pem.h'],
     'only csms/ca.c is X.509 code (svc signs through struct svc_ca_ops)'),
    ('rule-svc-no-jansson', ['csms/svc/'], [],
     ['hdr:jansson.h'],
     'the domain is plain C structs, no json_t'),
    ('rule-sim-no-csms', ['chargepoint-sim/'], [],
     ['file:csms/', 'path:csms/'],
     'the simulator depends on ocpp/ only'),
    ('rule-ocpp-standalone', ['ocpp/'], [],
     ['file:csms/', 'file:chargepoint-sim/', 'hdr:libwebsockets.h', 'hdr:sqlite3.h',
      'hdr:libpq-fe.h'],
     'libocpp is shared by csms and the simulator: no lws, no sqlite, no csms'),
]

# meson.build files under chargepoint-sim/ must not name these (the simulator links libocpp,
# never libcsms).
SIM_MESON_FORBIDDEN = re.compile(r"\b(libcsms\w*|csms_\w+)\b|['\"][^'\"]*\.\./csms")

# Where "..." includes are looked up after the including file's own folder (meson's
# include_directories of libocpp, libcsms, cpclient, libcpsim and the integration harness).
INCLUDE_DIRS = ['csms', 'ocpp', 'chargepoint-sim', 'chargepoint-sim/sim', 'tests/integration']

# Folders scanned for C sources; clang-format covers the same.
SOURCE_ROOTS = ['csms', 'ocpp', 'chargepoint-sim', 'tests', 'bench']
C_EXTS = ('.c', '.h', '.def')
FORMAT_EXTS = ('.c', '.h')
# Files never formatted or scanned: build output, vendored or generated code.
SKIP_DIRS = {'node_modules', '.git', 'corpus'}
GENERATED_MARK = re.compile(r'generated by|do not edit', re.I)

# ---------------------------------------------------------------------------- scanning

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


class Include:
    def __init__(self, src, line, quote, name, target):
        self.src = src        # including file, relative to the root
        self.line = line      # 1-based
        self.quote = quote    # '"' or '<'
        self.name = name      # as written
        self.target = target  # resolved file relative to the root, or None

    def where(self):
        return '%s:%d' % (self.src, self.line)


def is_build_dir(root, d):
    return os.path.exists(os.path.join(root, d, 'meson-private')) or \
        os.path.exists(os.path.join(root, d, 'build.ninja'))


def source_files(root, exts):
    out = []
    for top in SOURCE_ROOTS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith('.')
                         and not is_build_dir(dirpath, d))
            for f in sorted(filenames):
                if f.endswith(exts):
                    out.append(os.path.relpath(os.path.join(dirpath, f), root))
    return out


def is_generated(root, rel):
    with open(os.path.join(root, rel), encoding='utf-8', errors='replace') as fh:
        head = ''.join(fh.readline() for _ in range(3))
    return bool(GENERATED_MARK.search(head))


def resolve(root, src, name):
    cands = [os.path.join(os.path.dirname(src), name)] + [os.path.join(d, name) for d in INCLUDE_DIRS]
    for c in cands:
        c = os.path.normpath(c)
        if os.path.isfile(os.path.join(root, c)):
            return c
    return None


def scan(root):
    files = source_files(root, C_EXTS)
    incs = {}
    for f in files:
        lst = []
        with open(os.path.join(root, f), encoding='utf-8', errors='replace') as fh:
            for n, text in enumerate(fh, 1):
                m = INCLUDE_RE.match(text)
                if not m:
                    continue
                quote, name = m.group(1), m.group(2)
                target = resolve(root, f, name) if quote == '"' else None
                lst.append(Include(f, n, quote, name, target))
        incs[f] = lst
    return incs


def module_of(rel):
    for prefix, mod in MODULES:
        if rel.startswith(prefix):
            return mod
    return None


def csms_module(rel):
    """The csms module of rel, or None for files outside csms/ modules (ocpp is a module too)."""
    m = module_of(rel)
    return m if m in CSMS_DEPS or m == 'ocpp' else None

# ---------------------------------------------------------------------------- checks


def header_rule(root, incs, rule):
    name, covers, unless, forbidden, why = rule
    bad = []
    for f, lst in incs.items():
        if not any(f.startswith(c) for c in covers) or any(f.startswith(u) for u in unless):
            continue
        for i in lst:
            for fb in forbidden:
                kind, pat = fb.split(':', 1)
                hit = (kind == 'hdr' and os.path.basename(i.name) == pat) or \
                      (kind == 'file' and i.target is not None and i.target.startswith(pat)) or \
                      (kind == 'path' and pat in i.name)
                if hit:
                    shown = i.target or i.name
                    bad.append('%s: includes %s (%s)' % (i.where(), shown, why))
                    break
    return bad


def check_module_deps(root, incs):
    bad = []
    for f, lst in sorted(incs.items()):
        if not f.startswith('csms/'):
            continue
        src = module_of(f)
        if src not in CSMS_DEPS:
            bad.append('%s:1: not in any module of the table (add it to MODULES)' % f)
            continue
        allowed = set(CSMS_DEPS[src]) | set(ALWAYS_ALLOWED) | {src}
        for i in lst:
            if i.quote != '"':
                continue
            if i.target is None:
                bad.append('%s: cannot resolve "%s"' % (i.where(), i.name))
                continue
            dst = module_of(i.target)
            if dst not in allowed:
                bad.append('%s: %s -> %s (%s) is not in the module table' %
                       (i.where(), src, dst, i.target))
    return bad


def check_sim_meson(root, incs):
    bad = []
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, 'chargepoint-sim')):
        dirnames[:] = sorted(d for d in dirnames if not is_build_dir(dirpath, d))
        if 'meson.build' not in filenames:
            continue
        rel = os.path.relpath(os.path.join(dirpath, 'meson.build'), root)
        with open(os.path.join(root, rel), encoding='utf-8') as fh:
            for n, text in enumerate(fh, 1):
                code = text.split('#', 1)[0]
                m = SIM_MESON_FORBIDDEN.search(code)
                if m:
                    bad.append('%s:%d: names %s (the simulator depends on ocpp/ only)' %
                           (rel, n, m.group(0)))
    return bad


# SQLite migrations and their PostgreSQL twins: the same file names in both folders.
MIGRATION_DIRS = ('db/migrations', 'db/pg')


def check_migration_twins(root, incs):
    """Every db/migrations/NNNN_name.sql has db/pg/NNNN_name.sql and the other way round: the
    two stores number their schemas alike, so the two lists must stay the same length."""
    names = {}
    for d in MIGRATION_DIRS:
        p = os.path.join(root, d)
        names[d] = sorted(f for f in os.listdir(p) if f.endswith('.sql')) if os.path.isdir(p) else []
    bad = []
    a, b = MIGRATION_DIRS
    for src, dst in ((a, b), (b, a)):
        for f in names[src]:
            if f not in names[dst]:
                bad.append('%s/%s:1: no twin %s/%s (%d migrations in %s, %d in %s; see '
                           'docs/postgresql.md)' % (src, f, dst, f, len(names[a]), a,
                                                     len(names[b]), b))
    return bad


def check_config_docs(root, incs):
    """Every key of the config table (csms/core/cfg.c: {"name", KEY_...}) is documented in
    docs/config.md as `name`: a setting nobody can read about is one nobody sets right."""
    src = os.path.join(root, 'csms', 'core', 'cfg.c')
    if not os.path.isfile(src):
        return []
    doc_path = os.path.join(root, 'docs', 'config.md')
    doc = open(doc_path, encoding='utf-8').read() if os.path.isfile(doc_path) else ''
    bad = []
    with open(src, encoding='utf-8') as fh:
        for n, line in enumerate(fh, 1):
            m = re.match(r'\s*\{"([a-z0-9_]+)",\s*KEY_', line)
            if m and '`%s`' % m.group(1) not in doc:
                bad.append('csms/core/cfg.c:%d: config key %s is not in docs/config.md' %
                           (n, m.group(1)))
    return bad


def file_graph(incs):
    g = {}
    for f, lst in incs.items():
        g.setdefault(f, {})
        for i in lst:
            if i.target is not None:
                g[f].setdefault(i.target, []).append(i)
    return g


def module_graph(incs, only_product=True):
    """{src module: {dst module: [Include, ...]}} over resolved "..." includes between modules."""
    g = {}
    for f, lst in incs.items():
        src = module_of(f)
        if src is None or (only_product and src in ('tests', 'bench')):
            continue
        g.setdefault(src, {})
        for i in lst:
            if i.target is None:
                continue
            dst = module_of(i.target)
            if dst is None or dst == src:
                continue
            g[src].setdefault(dst, []).append(i)
    return g


def sccs(g):
    """Tarjan's strongly connected components of {node: {succ: ...}} (iterative)."""
    index, low, onstack, stack, out = {}, {}, set(), [], []
    counter = [0]
    nodes = sorted(set(g) | {d for s in g.values() for d in s})
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(g.get(start, {}))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        onstack.add(start)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    onstack.add(w)
                    work.append((w, iter(sorted(g.get(w, {})))))
                    advanced = True
                    break
                if w in onstack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    onstack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in g.get(v, {}):
                    out.append(sorted(comp))
    return out


def cycles(g, limit=50):
    """Elementary cycles (each printed once, starting at its smallest node), at most limit."""
    found = []
    for comp in sccs(g):
        members = set(comp)
        for start in comp:
            # cycles through start whose other nodes sort after start: each cycle found once
            path, stack = [start], [iter(sorted(d for d in g.get(start, {}) if d in members))]
            while stack and len(found) < limit:
                nxt = next(stack[-1], None)
                if nxt is None:
                    stack.pop()
                    path.pop()
                    continue
                if nxt == start:
                    found.append(path + [start])
                elif nxt > start and nxt not in path:
                    path.append(nxt)
                    stack.append(iter(sorted(d for d in g.get(nxt, {}) if d in members)))
    return found


def describe_cycle(g, cyc):
    steps = []
    for a, b in zip(cyc, cyc[1:]):
        steps.append('%s -> %s (%s)' % (a, b, g[a][b][0].where()))
    return ' -> '.join(cyc) + '\n    ' + '\n    '.join(steps)


def check_file_cycles(root, incs):
    g = file_graph(incs)
    return ['include cycle: ' + describe_cycle(g, c) for c in cycles(g)]


def check_module_cycles(root, incs):
    g = module_graph(incs)
    return ['module cycle: ' + describe_cycle(g, c) for c in cycles(g)]


def find_clang_format():
    for name in ('clang-format-14', 'clang-format'):
        p = shutil.which(name)
        if p:
            return p
    return None


def check_format(root, incs):
    cf = os.environ.get('CLANG_FORMAT') or find_clang_format()
    if not cf:
        return ['clang-format not found (install clang-format 14 or set CLANG_FORMAT)']
    if not os.path.isfile(os.path.join(root, '.clang-format')):
        return ['.clang-format: missing at the source root']
    files = [f for f in source_files(root, FORMAT_EXTS) if not is_generated(root, f)]
    bad = []
    for k in range(0, len(files), 40):
        batch = files[k:k + 40]
        p = subprocess.run([cf, '--dry-run', '-Werror', '--style=file'] + batch, cwd=root,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        counts = {}
        for text in p.stderr.splitlines():
            m = re.match(r'^(.+?):(\d+):\d+: (?:error|warning): code should be clang-formatted', text)
            if m:
                f = os.path.relpath(os.path.join(root, m.group(1)), root) \
                    if not os.path.isabs(m.group(1)) else os.path.relpath(m.group(1), root)
                counts.setdefault(f, []).append(int(m.group(2)))
        if p.returncode != 0 and not counts:
            bad.append('clang-format failed: ' + p.stderr.strip()[:500])
        for f in batch:
            if f in counts:
                bad.append('%s:%d: not clang-formatted (%d places; run clang-format -i %s)' %
                       (f, counts[f][0], len(counts[f]), f))
    return bad


CHECKS = {r[0]: (lambda rule: lambda root, incs: header_rule(root, incs, rule))(r) for r in HEADER_RULES}
CHECKS.update({
    'module-deps': check_module_deps,
    'sim-meson-deps': check_sim_meson,
    'cycles-files': check_file_cycles,
    'cycles-modules': check_module_cycles,
    'clang-format': check_format,
    'pg-migration-twins': check_migration_twins,
    'config-keys-documented': check_config_docs,
})

# ---------------------------------------------------------------------------- graph


def print_graph(root, incs):
    g = module_graph(incs)
    print('# module include graph of %s: "src -> dst  N" = N #include lines' % os.path.abspath(root))
    for src in sorted(g):
        for dst in sorted(g[src]):
            print('%-10s -> %-10s %3d' % (src, dst, len(g[src][dst])))
    mc = cycles(g)
    print('# module cycles: %d' % len(mc))
    for c in mc:
        print('  ' + ' -> '.join(c))
    fc = cycles(file_graph(incs))
    print('# file include cycles: %d' % len(fc))
    for c in fc:
        print('  ' + ' -> '.join(c))
    viol = check_module_deps(root, incs)
    print('# module-table violations: %d' % len(viol))
    for v in viol:
        print('  ' + v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
    ap.add_argument('--check', action='append', default=[], choices=sorted(CHECKS))
    ap.add_argument('--all', action='store_true')
    ap.add_argument('--list', action='store_true')
    ap.add_argument('--graph', action='store_true')
    a = ap.parse_args()
    root = os.path.normpath(a.root)
    if a.list:
        print('\n'.join(sorted(CHECKS)))
        return 0
    incs = scan(root)
    if a.graph:
        print_graph(root, incs)
        return 0
    names = sorted(CHECKS) if a.all else a.check
    if not names:
        ap.error('give --check NAME, --all, --list or --graph')
    failed = 0
    for name in names:
        bad = CHECKS[name](root, incs)
        for b in bad:
            print('%s: %s' % (name, b))
        print('%s: %s (%d)' % (name, 'FAIL' if bad else 'ok', len(bad)),
              file=sys.stderr if not bad else sys.stdout)
        failed += bool(bad)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
