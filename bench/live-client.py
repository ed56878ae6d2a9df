#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# N /api/live subscribers in one process (stdlib only): a minimal WebSocket client (RFC 6455,
# subprotocol csms-live) authenticated by an API token. Prints one JSON line:
#   {"subscribers", "connected", "dropped", "close_codes", "seconds", "events": [per subscriber],
#    "events_per_s": {"min", "median", "max"}, "types": {type: count}}
#
#   live-client.py --port P --token T [--n 50] [--seconds 45] [--host 127.0.0.1] [--no-power]
#   live-client.py --port P --login USER --password-file F --make-token   (prints a new token)
import argparse
import asyncio
import base64
import http.client
import json
import os
import statistics
import struct
import sys
import time


def make_token(host, port, user, password, role='viewer'):
    """Log in (cookie + CSRF), then POST /api/tokens for a token of that role (viewer)."""
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.request('POST', '/api/login', json.dumps({'username': user, 'password': password}),
              {'Content-Type': 'application/json'})
    r = c.getresponse()
    body = json.loads(r.read() or b'{}')
    if r.status != 200:
        sys.exit('login: %d %s' % (r.status, body))
    cookie = r.getheader('Set-Cookie').split(';')[0]
    c.request('POST', '/api/tokens', json.dumps({'name': 'live-bench-%d' % os.getpid(), 'role': role}),
              {'Content-Type': 'application/json', 'Cookie': cookie, 'X-CSRF-Token': body['csrf']})
    r = c.getresponse()
    tok = json.loads(r.read() or b'{}')
    if r.status != 201:
        sys.exit('token: %d %s' % (r.status, tok))
    return tok['token']


class Sub:
    def __init__(self):
        self.events = 0
        self.connected = False
        self.close_code = None
        self.types = {}


async def subscriber(host, port, token, sub, stop_at, no_power):
    reader, writer = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(('GET /api/live HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n'
                  'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n'
                  'Sec-WebSocket-Protocol: csms-live\r\nAuthorization: Bearer %s\r\n\r\n'
                  % (host, port, key, token)).encode())
    await writer.drain()
    head = await reader.readuntil(b'\r\n\r\n')
    if not head.startswith(b'HTTP/1.1 101'):
        sub.close_code = 'http ' + head.split(b'\r\n')[0].decode(errors='replace')
        writer.close()
        return
    sub.connected = True

    def send(opcode, payload=b''):  # client frames are masked
        mask = os.urandom(4)
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        writer.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + data)

    if no_power:  # what a dashboard that draws only the network's power asks for
        send(1, b'{"power": false}')

    buf = bytearray(head[head.index(b'\r\n\r\n') + 4:])
    try:
        while True:
            left = stop_at - time.monotonic()
            if left <= 0:
                break
            chunk = await asyncio.wait_for(reader.read(1 << 16), left)
            if not chunk:
                sub.close_code = sub.close_code or 'eof'
                break
            buf += chunk
            # every whole frame in the buffer (server frames are not masked)
            pos = 0
            while len(buf) - pos >= 2:
                b0, n = buf[pos], buf[pos + 1] & 0x7f
                hl = 2
                if n == 126:
                    if len(buf) - pos < 4:
                        break
                    n, hl = struct.unpack_from('!H', buf, pos + 2)[0], 4
                elif n == 127:
                    if len(buf) - pos < 10:
                        break
                    n, hl = struct.unpack_from('!Q', buf, pos + 2)[0], 10
                if len(buf) - pos < hl + n:
                    break
                opcode, payload = b0 & 0x0f, bytes(buf[pos + hl:pos + hl + n])
                pos += hl + n
                if opcode == 8:  # close: the server dropped us
                    sub.close_code = (struct.unpack('!H', payload[:2])[0]
                                      if len(payload) >= 2 else 1005)
                    raise ConnectionError
                if opcode == 9:
                    send(10, payload)
                elif opcode in (0, 1):
                    sub.events += 1
                    if opcode == 1 and payload[:9] == b'{"type":"':
                        t = payload[9:payload.find(b'"', 9)].decode()
                        sub.types[t] = sub.types.get(t, 0) + 1
            del buf[:pos]
    except asyncio.TimeoutError:
        pass
    except (asyncio.IncompleteReadError, ConnectionError):
        sub.close_code = sub.close_code or 'eof'
    writer.close()


async def run(a):
    subs = [Sub() for _ in range(a.n)]
    start = time.monotonic()
    stop_at = start + a.seconds
    await asyncio.gather(*(subscriber(a.host, a.port, a.token, s, stop_at, a.no_power) for s in subs),
                         return_exceptions=True)
    secs = time.monotonic() - start
    rates = [s.events / secs for s in subs]
    types = {}
    for s in subs:
        for t, c in s.types.items():
            types[t] = types.get(t, 0) + c
    codes = {}
    for s in subs:
        if s.close_code is not None:
            codes[str(s.close_code)] = codes.get(str(s.close_code), 0) + 1
    print(json.dumps({
        'subscribers': a.n, 'connected': sum(s.connected for s in subs),
        'dropped': sum(1 for s in subs if s.connected and s.close_code is not None),
        'close_codes': codes, 'seconds': round(secs, 1), 'events': [s.events for s in subs],
        'events_per_s': {'min': round(min(rates), 1), 'median': round(statistics.median(rates), 1),
                         'max': round(max(rates), 1)},
        'types': types}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--token')
    p.add_argument('--n', type=int, default=50)
    p.add_argument('--seconds', type=float, default=45)
    p.add_argument('--no-power', action='store_true', help='send {"power": false}')
    p.add_argument('--login')
    p.add_argument('--password-file')
    p.add_argument('--make-token', action='store_true')
    p.add_argument('--token-role', default='viewer')
    a = p.parse_args()
    if a.make_token:
        print(make_token(a.host, a.port, a.login, open(a.password_file).read().strip(), a.token_role))
        return
    asyncio.run(run(a))


if __name__ == '__main__':
    main()
