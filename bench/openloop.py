"""An open-loop load generator: sends requests at a fixed rate whatever the server does, and
measures each latency from the moment the request was due (so a slow server cannot hide its
queueing: no coordinated omission). Runs as its own process.

    python bench/openloop.py --url http://127.0.0.1:5000/api/v1/incidents --rate 200 --seconds 15 \
        --body-file bodies.json [--header 'Authorization: Bearer …'] [--idempotency]
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import threading
import time
import uuid
from urllib.parse import urlsplit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--body-file", required=True, help="a JSON list of request bodies, used in turn")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--idempotency", action="store_true", help="a fresh Idempotency-Key per request")
    args = parser.parse_args()

    url = urlsplit(args.url)
    bodies = [json.dumps(b).encode() for b in json.load(open(args.body_file, encoding="utf-8"))]
    headers = {"Content-Type": "application/json"}
    for h in args.header:
        name, _, value = h.partition(":")
        headers[name.strip()] = value.strip()
    total = int(args.rate * args.seconds)
    due: queue.Queue = queue.Queue()
    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        while True:
            item = due.get()
            if item is None:
                return
            i, when = item
            delay = when - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            h = dict(headers)
            if args.idempotency:
                h["Idempotency-Key"] = f"bench-{uuid.uuid4().hex}"
            try:
                conn.request("POST", url.path, body=bodies[i % len(bodies)], headers=h)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
                status = 0
            latency = time.perf_counter() - when
            with lock:
                results.append((latency, status))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.workers)]
    for t in threads:
        t.start()
    start = time.perf_counter() + 0.2
    for i in range(total):
        due.put((i, start + i / args.rate))
    for _ in threads:
        due.put(None)
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies = sorted(lat for lat, status in results if 200 <= status < 300)
    errors = sum(1 for _lat, status in results if not 200 <= status < 300)

    def pct(p: float) -> float | None:
        if not latencies:
            return None
        return round(1000 * latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 2)

    print(json.dumps({"requests": total, "ok": len(latencies), "errors": errors,
                      "achieved_rps": round(len(results) / elapsed, 1),
                      "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": pct(100)}))


if __name__ == "__main__":
    main()
