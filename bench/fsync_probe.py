#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The disk's fsync latency where the database lives, as bench/loadtest.sh reports it beside
the CSMS figures: N times append 4 KiB (a WAL frame) to a scratch file in DIR and fdatasync it.

    bench/fsync_probe.py DIR [N]     prints "fsync_p50_ms X fsync_p99_ms Y n N"
"""
import os
import sys
import tempfile
import time


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "."
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    block = os.urandom(4096)
    fd, path = tempfile.mkstemp(prefix="fsync-probe.", dir=d)
    times = []
    try:
        for _ in range(n):
            os.write(fd, block)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        os.unlink(path)
    times.sort()
    p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    print(f"fsync_p50_ms {p(0.50):.3f} fsync_p99_ms {p(0.99):.3f} n {n}")


if __name__ == "__main__":
    main()
