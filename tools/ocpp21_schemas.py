#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Extract OCPP 2.1 JSON schemas from typed-ocpp's generated dist/ocpp21/schemas.js (MIT), which
# holds `const definitions = {...};` and `export const <Name> = { definitions, ... };` objects in
# JSON syntax. ocpp21_schemas.py SCHEMAS.JS OUTDIR NAME... writes OUTDIR/NAME.json, each a
# standalone JSON schema whose "definitions" keep only the types NAME reaches through "$ref".
import json
import os
import re
import sys


def object_at(text, start):
    """The JSON object text starting at text[start] == '{' (strings may hold braces)."""
    depth, i, in_str = 0, start, False
    while i < len(text):
        ch = text[i]
        if in_str:
            if ch == '\\':
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
        i += 1
    raise SystemExit('unterminated object at %d' % start)


def refs(node, out):
    if isinstance(node, dict):
        r = node.get('$ref')
        if isinstance(r, str) and r.startswith('#/definitions/'):
            out.add(r[len('#/definitions/'):])
        for v in node.values():
            refs(v, out)
    elif isinstance(node, list):
        for v in node:
            refs(v, out)


def main():
    src, outdir, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    text = open(src, encoding='utf-8').read()
    m = re.search(r'^const definitions = \{', text, re.M)
    if not m:
        raise SystemExit('no definitions in ' + src)
    defs = json.loads(object_at(text, m.end() - 1))
    for name in names:
        m = re.search(r'^export const %s = \{' % re.escape(name), text, re.M)
        if not m:
            raise SystemExit('no schema %s in %s' % (name, src))
        body = object_at(text, m.end() - 1)
        body = re.sub(r'^\{\s*definitions,', '{', body)
        schema = json.loads(body)
        need, todo = set(), set()
        refs(schema, todo)
        while todo:
            d = todo.pop()
            if d in need:
                continue
            if d not in defs:
                raise SystemExit('%s: unknown definition %s' % (name, d))
            need.add(d)
            refs(defs[d], todo)
        out = {'$schema': 'http://json-schema.org/draft-06/schema#',
               '$id': 'urn:OCPP:Cp:2:2025:1:' + name,
               'definitions': {d: defs[d] for d in sorted(need)}}
        out.update(schema)
        with open(os.path.join(outdir, name + '.json'), 'w', encoding='utf-8') as f:
            json.dump(out, f, indent=2, ensure_ascii=False)
            f.write('\n')


if __name__ == '__main__':
    main()
