#!/usr/bin/env python3
"""Drives bench/push against a running Shipgate (stdlib only, including a minimal
graphql-ws client): connect the sandbox eBay account, download its orders, declare the
SKUs, create a NETWORK channel, set it on every order, subscribe to pushResults, push in
batches of 1,000 and time until every result has arrived."""
import base64, json, os, socket, struct, sys, threading, time
import urllib.parse

BASE, N = sys.argv[1], int(sys.argv[2])

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import Client

class Ws:
    """Just enough RFC 6455 for graphql-transport-ws: text frames, client masking."""
    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.s = socket.create_connection((u.hostname, u.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                        "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.s.recv(1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.buf = b""
    def send(self, obj):
        data = json.dumps(obj).encode()
        mask = os.urandom(4)
        n = len(data)
        hdr = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536
                                else bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out
    def recv(self):
        msg = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126: n = struct.unpack(">H", self._read(2))[0]
            elif n == 127: n = struct.unpack(">Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 0x9:  # ping → pong
                continue
            if op == 0x8:
                raise EOFError
            msg += payload
            if b0 & 0x80:
                return json.loads(msg)

c = Client(BASE)
c.sign_up()
tok = c.tok
ids, ncodes = c.prepare_orders({"declaration": {"nameEn": "Gift", "valueMinor": 100, "currency": "USD", "weightGrams": 50}})
print(f"prepared {len(ids)} orders ({ncodes} SKUs declared)")

ws = Ws(BASE.replace("http://", "ws://") + "/graphql/ws")
ws.send({"type": "connection_init", "payload": {"Authorization": "Bearer " + tok}})
assert ws.recv()["type"] == "connection_ack"
ws.send({"type": "subscribe", "id": "r", "payload": {"query": "subscription { pushResults { orderId status trackingNumber } }"}})
time.sleep(0.3)
results, done = {}, threading.Event()
events = [0]
def listen():
    while len(results) < len(ids):
        m = ws.recv()
        if m.get("type") == "next":
            events[0] += 1
            p = m["payload"]["data"]["pushResults"]
            results[p["orderId"]] = p
    done.set()
threading.Thread(target=listen, daemon=True).start()
t0 = time.time()
for i in range(0, len(ids), 1000):
    c.gql('mutation($ids:[ID!]!) { pushOrders(input:{orderIds:$ids}) { job { id } } }', {"ids": ids[i:i + 1000]})
t_req = time.time() - t0
if not done.wait(600):
    raise SystemExit(f"only {len(results)} results after 600 s")
dt = time.time() - t0
pushed = sum(1 for p in results.values() if p["status"] == "PUSHED")
numbers = [p["trackingNumber"] for p in results.values() if p["trackingNumber"]]
print(f"push: {len(ids)} orders accepted in {t_req:.2f}s; all results in {dt:.2f}s -> {len(ids)/dt:.0f} orders/s")
print(f"subscriber: {events[0]} events, {pushed} PUSHED, {len(results) - pushed} failed, "
      f"{len(numbers) - len(set(numbers))} duplicate tracking numbers among results")
