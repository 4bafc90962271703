#!/usr/bin/env python3
"""Probes a GeoGrid server's limits over raw sockets and http.client, printing what it saw as JSON.

usage: limits-probe.py BASE TOKEN_A TOKEN_B RATE BURST REQUEST_TIMEOUT IDLE_TIMEOUT

The server was started with --rate-limit RATE --rate-burst BURST --max-body-mib 1 --request-timeout
REQUEST_TIMEOUT --idle-timeout IDLE_TIMEOUT. Each probe records facts (statuses, headers, seconds); the
caller judges them and checks the store.
"""
import http.client
import json
import re
import socket
import sys
import threading
import time
import urllib.parse

base, token_a, token_b = sys.argv[1], sys.argv[2], sys.argv[3]
rate, burst, request_timeout, idle_timeout = float(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
url = urllib.parse.urlsplit(base)
host, port = url.hostname, url.port
report = {}


def call(method, path, token=None, body=None, content_type="application/json", extra=None):
    c = http.client.HTTPConnection(host, port, timeout=30)
    headers = dict(extra or {})
    if token:
        headers["Authorization"] = "Bearer " + token
    if body is not None and content_type:
        headers["Content-Type"] = content_type
    c.request(method, path, body=body, headers=headers, encode_chunked=headers.get("Transfer-Encoding") == "chunked")
    r = c.getresponse()
    data = r.read()
    c.close()
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    return {"status": r.status, "type": r.getheader("Content-Type", ""), "retry_after": r.getheader("Retry-After"),
            "detail": parsed.get("detail") if isinstance(parsed, dict) else None,
            "open311": parsed if isinstance(parsed, list) else None}


def raw(data, wait=10.0, pause=0.0, chunks=None, close_after=False):
    """Sends `data` (or `chunks`, `pause` seconds apart) on one connection; returns what came back, the seconds
    until the server closed it, and whether sending failed because it had."""
    s = socket.create_connection((host, port))
    s.settimeout(wait)
    start = time.monotonic()
    send_failed = False
    try:
        for chunk in chunks if chunks is not None else [data]:
            s.sendall(chunk)
            if pause:
                time.sleep(pause)
        if close_after:
            s.shutdown(socket.SHUT_WR)
    except OSError:
        send_failed = True
    received = b""
    try:
        while True:
            part = s.recv(65536)
            if not part:
                break
            received += part
    except socket.timeout:
        pass
    except OSError:
        pass
    s.close()
    return received, time.monotonic() - start, send_failed


def statuses(data):
    return [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]


def problem(data):
    body = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
    try:
        return json.JSONDecoder().raw_decode(body.decode("utf-8", "replace"))[0]
    except ValueError:
        return None


# Rate: one keep-alive connection sends BURST * 3 reads as fast as it can with token A.
c = http.client.HTTPConnection(host, port, timeout=30)
start = time.monotonic()
seen = []
retry_after = None
for _ in range(burst * 3):
    c.request("GET", "/locate?lon=24.9445&lat=60.17", headers={"Authorization": "Bearer " + token_a})
    r = c.getresponse()
    body = r.read()
    seen.append(r.status)
    if r.status == 429:
        retry_after = r.getheader("Retry-After")
        limited = {"type": r.getheader("Content-Type"), "detail": json.loads(body).get("detail")}
elapsed = time.monotonic() - start
# A write with the spent token, on the same connection at once; should the bucket have refilled meanwhile (a
# stalled machine), a write may pass, so up to three are sent until one is refused, and the passed are counted.
write_start = time.monotonic()
writes = []
for _ in range(3):
    c.request("POST", "/incidents", body=json.dumps({"lon": 24.9445, "lat": 60.17, "category": "fire", "title": "rate probe"}),
              headers={"Authorization": "Bearer " + token_a, "Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    writes.append(r.status)
    if r.status == 429:
        break
write_seconds = time.monotonic() - write_start
c.close()
report["rate"] = {"statuses": seen, "seconds": elapsed, "retry_after": retry_after, "limited": limited if retry_after else None,
                  "writes_when_spent": writes, "write_seconds": write_seconds,
                  # at the same moment: another token and no token
                  "other_token": call("GET", "/locate?lon=24.9445&lat=60.17", token_b)["status"],
                  "anonymous": call("GET", "/locate?lon=24.9445&lat=60.17")["status"]}
time.sleep(float(retry_after or 1) + 0.05)
report["rate"]["after_waiting"] = call("GET", "/locate?lon=24.9445&lat=60.17", token_a)["status"]
time.sleep(burst / rate + 0.2)  # token A's bucket full again for what follows

# Bodies: 2 MiB against a 1 MiB limit, with Content-Length and chunked; a wrong type; a body cut short.
big = json.dumps({"type": "Feature", "properties": {"name": "x" * (2 << 20)},
                  "geometry": {"type": "Point", "coordinates": [24.9445, 60.17]}}).encode()
routes = ["/collections/resources/items", "/incidents", "/plans", "/open311/v2/requests.json"]
bodies = {}
for path in routes:
    kind = "application/x-www-form-urlencoded" if "open311" in path else "application/json"
    sized = call("POST", path, token_b, big, kind)

    def chunks():
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]
    chunked = call("POST", path, token_b, chunks(), kind, {"Transfer-Encoding": "chunked"})
    wrong = call("POST", path, token_b, "lon=24.9&lat=60.1", "text/plain") if "open311" not in path else None
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: 5000\r\n\r\n"
            % (path, token_b, kind)).encode()
    # cut short while the client waits (the request timeout answers), and cut short by the client going away
    cut, _, _ = raw(head + big[:2000], wait=request_timeout + 3)
    gone, _, _ = raw(head + big[:2000], wait=3, close_after=True)
    bodies[path] = {"sized": sized, "chunked": chunked, "wrong_type": wrong, "cut_short": statuses(cut), "client_gone": statuses(gone)}
report["bodies"] = bodies

# Slow clients. A body sent a byte at a time, slower than the request timeout allows.
head = ("POST /incidents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"
        "Content-Length: 200\r\n\r\n" % token_b).encode()
steps = int((request_timeout + 2) / 0.25)
data, seconds, _ = raw(None, wait=request_timeout + 5, pause=0.25, chunks=[head] + [b" "] * steps)
report["slow_body"] = {"statuses": statuses(data), "seconds": seconds, "problem": problem(data)}
# A head sent a byte at a time: closed without an answer once the idle timeout passes.
request = b"GET /health HTTP/1.1\r\nHost: " + b"x" * 200 + b"\r\n\r\n"
data, seconds, _ = raw(None, wait=idle_timeout + 5, pause=0.1, chunks=[bytes([b]) for b in request])
report["slow_head"] = {"statuses": statuses(data), "seconds": seconds}
# A connection that says nothing.
data, seconds, _ = raw(b"", wait=idle_timeout + 5)
report["idle"] = {"statuses": statuses(data), "seconds": seconds}

# The parser's refusals, answered as problems: a query string of 100 KiB; bytes that are not HTTP after two
# pipelined requests (those two answered first).
data, _, _ = raw(b"GET /locate?lon=24.9&lat=60.1&q=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", wait=5)
report["long_query"] = {"statuses": statuses(data), "problem": problem(data)}
data, _, _ = raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\nNOT\x01HTTP \x02\r\n\r\n", wait=5)
report["pipelined_garbage"] = {"statuses": statuses(data), "last": problem(data[data.rfind(b"HTTP/1.1 400 "):])}

# A stream of events outlives the idle and request timeouts: a case reported after both have passed arrives.
events = []


def listen():
    s = socket.create_connection((host, port))
    s.settimeout(idle_timeout + request_timeout + 8)
    s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer " + token_b.encode() + b"\r\n\r\n")
    received = b""
    try:
        while b"event: created" not in received:
            part = s.recv(65536)
            if not part:
                break
            received += part
    except OSError:
        pass
    events.append(received)
    s.close()


listener = threading.Thread(target=listen)
listener.start()
time.sleep(max(idle_timeout, request_timeout) + 1)
reported = call("POST", "/incidents", token_b, json.dumps({"lon": 24.9445, "lat": 60.17, "category": "fire", "title": "after the timeouts"}))
listener.join()
report["stream"] = {"reported": reported["status"], "received_created": b"event: created" in events[0],
                    "answer": statuses(events[0]), "seconds_open": max(idle_timeout, request_timeout) + 1}

print(json.dumps(report))
