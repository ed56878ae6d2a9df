#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What the demo's CSMS is doing, through its API, in a few lines: residential sites planned
(sessions, peak planned power against the site's limit) and swap orders of the day.

    tools/demo-proof.py PORT USER PASSWORD_FILE

Logs in like the dashboard (POST /api/login, then the session cookie); reads only. Exit 0 when
it could ask; the lines say what it found (none planned yet is a finding, not an error)."""
import http.client
import json
import sys


def main():
    port, user, pw_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    with open(pw_file, encoding="utf-8") as f:
        password = f.read().strip()
    host = "127.0.0.1:%d" % port

    def request(method, path, body=None, cookie=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        headers = {"Host": host}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if cookie:
            headers["Cookie"] = cookie
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers=headers)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheader("Set-Cookie") or "", json.loads(data or b"null")

    status, set_cookie, _ = request("POST", "/api/login", {"username": user, "password": password})
    if status != 200:
        print("demo-proof: login answered %d" % status, file=sys.stderr)
        return 1
    cookie = set_cookie.split(";", 1)[0]
    _, _, sites = request("GET", "/api/sites", cookie=cookie)
    homes = [s for s in sites.get("sites", []) if s.get("kind") == "residential"]
    planned, example = 0, None
    for site in homes[:100]:
        st, _, plan = request("GET", "/api/sites/%s/plan" % site["id"], cookie=cookie)
        sessions = ((plan or {}).get("plan") or {}).get("sessions") or []
        if st == 200 and sessions:
            planned += 1
            if example is None:
                slots = plan["plan"].get("slots") or []
                peak = max((x.get("planned_w") or 0 for x in slots), default=0)
                example = (site["id"], len(sessions), peak / 1000.0, plan.get("limit_kw"),
                           plan["plan"].get("cost_planned_fen"),
                           plan["plan"].get("cost_immediate_fen"))
    print("    planner: %d of the first %d residential sites have a plan now" %
          (planned, min(len(homes), 100)))
    if example:
        limit = "%s kW" % example[3] if example[3] is not None else "none"
        print("      e.g. %s: %d session(s), planned peak %.1f kW (site limit: %s), "
              "cost %s fen planned vs %s fen charging at once" %
              (example[0], example[1], example[2], limit, example[4], example[5]))
        print("      GET /api/sites/%s/plan, or Sites -> %s on the dashboard" %
              (example[0], example[0]))
    _, _, orders = request("GET", "/api/swap/orders", cookie=cookie)
    n = len((orders or {}).get("orders") or [])
    print("    swap stations: %d swap order(s) today (GET /api/swap/orders)" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
