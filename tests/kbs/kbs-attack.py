#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Load that tries to starve ephroot-kbs, for tests/kbs/test-kbs-limits.sh. Every mode runs for a
bounded time and prints one JSON line of counts.

  kbs-attack.py trickle PORT --from 127.0.0.2 --count N --seconds S
      N connections from the given source address, each a POST /kbs/v0/auth whose 64-byte body is
      sent one byte every 0.5 s. Counts the connections the server accepted and kept, and how long
      each stayed open.
  kbs-attack.py bigbody PORT --from 127.0.0.3 --count N --size BYTES --seconds S
      N connections from successive source addresses (127.0.0.3, .4, ...), each declaring a body
      of BYTES and sending all of it but the last byte, then holding. Counts 503 answers.
  kbs-attack.py flood PORT --from 127.0.0.9 --seconds S --threads T
      auth requests as fast as T keep-alive connections can send them.
"""
import argparse
import http.client
import ipaddress
import json
import socket
import threading
import time

AUTH = b'{"version":"0.4.0","tee":"tpm","extra-params":""}'


def connect(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def closed(s):
    try:
        s.setblocking(False)
        d = s.recv(4096)
        s.setblocking(True)
        return d == b"" or d.startswith(b"HTTP/1.1 5") or d.startswith(b"HTTP/1.1 4")
    except BlockingIOError:
        s.setblocking(True)
        return False
    except OSError:
        return True


def trickle(a):
    body = b"x" * 64
    socks, opened_at, closed_after = [], [], []
    for _ in range(a.count):
        try:
            s = connect(a.port, a.src)
            s.sendall(b"POST /kbs/v0/auth HTTP/1.1\r\nHost: kbs\r\nContent-Type: application/json\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body))
            socks.append(s)
            opened_at.append(time.monotonic())
        except OSError:
            pass
    time.sleep(0.3)
    alive = [i for i, s in enumerate(socks) if not closed(s)]
    kept = len(alive)
    end = time.monotonic() + a.seconds
    sent = 0
    while time.monotonic() < end and alive:
        for i in list(alive):
            try:
                socks[i].send(body[sent % len(body):sent % len(body) + 1])
            except OSError:
                closed_after.append(time.monotonic() - opened_at[i])
                alive.remove(i)
                continue
            if closed(socks[i]):
                closed_after.append(time.monotonic() - opened_at[i])
                alive.remove(i)
        sent += 1
        time.sleep(0.5)
    print(json.dumps({"attempted": a.count, "kept": kept, "closed_by_server": len(closed_after),
                      "max_open_s": round(max(closed_after), 1) if closed_after else None,
                      "still_open": len(alive)}))


def bigbody(a):
    base = ipaddress.ip_address(a.src)
    socks, busy, other = [], 0, 0
    for i in range(a.count):
        s = connect(a.port, str(base + i))
        s.sendall(b"POST /kbs/v0/auth HTTP/1.1\r\nHost: kbs\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % a.size)
        try:
            s.sendall(b" " * (a.size - 1))
        except OSError:
            pass
        socks.append(s)
    time.sleep(0.5)
    for s in socks:
        try:
            s.settimeout(0.5)
            d = s.recv(4096)
            if b" 503 " in d.split(b"\r\n", 1)[0] and b"Retry-After: 1" in d:
                busy += 1
            elif d:
                other += 1
        except OSError:
            pass
    time.sleep(a.seconds)
    print(json.dumps({"attempted": a.count, "answered_503_retry_after": busy, "other_answers": other}))


def flood(a):
    count = [0] * a.threads
    end = time.monotonic() + a.seconds

    def run(k):
        c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5, source_address=(a.src, 0))
        while time.monotonic() < end:
            try:
                c.request("POST", "/kbs/v0/auth", AUTH, {"Content-Type": "application/json"})
                c.getresponse().read()
                count[k] += 1
            except (OSError, http.client.HTTPException):
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=5, source_address=(a.src, 0))
    ts = [threading.Thread(target=run, args=(k,)) for k in range(a.threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(json.dumps({"auth_requests": sum(count), "seconds": a.seconds}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["trickle", "bigbody", "flood"])
    ap.add_argument("port", type=int)
    ap.add_argument("--from", dest="src", default="127.0.0.2")
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--size", type=int, default=900000)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    {"trickle": trickle, "bigbody": bigbody, "flood": flood}[a.mode](a)


if __name__ == "__main__":
    main()
