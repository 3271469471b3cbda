#!/usr/bin/env python3
"""Drives bench/push against a running Shipgate (stdlib only, including a minimal
graphql-ws client): connect the sandbox eBay account, download its orders, declare the
SKUs, create a NETWORK channel, set it on every order, subscribe to pushResults, push in
batches of 1,000 and time until every result has arrived."""
import base64, html, http.client, json, os, re, socket, struct, sys, threading, time
import urllib.parse, urllib.request

BASE, N = sys.argv[1], int(sys.argv[2])

def gql(q, v=None, tok=None):
    req = urllib.request.Request(BASE + "/graphql", data=json.dumps({"query": q, "variables": v or {}}).encode(),
                                 headers={"content-type": "application/json", **({"authorization": "Bearer " + tok} if tok else {})})
    body = json.load(urllib.request.urlopen(req))
    if body.get("errors"):
        raise SystemExit(f"GraphQL error: {body['errors']}")
    return body["data"]

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

tok = gql('mutation { signUp(input:{organizationName:"Bench", email:"bench@example.com", password:"benchmark password 1"}) { accessToken } }')["signUp"]["accessToken"]
r = gql('mutation { startAccountAuthorization(input:{platform: EBAY, name:"bench"}) { account { id } authorizationUrl } }', tok=tok)["startAccountAuthorization"]
acc, url = r["account"]["id"], r["authorizationUrl"]
page = urllib.request.urlopen(url).read().decode()
fields = dict((m.group(1), html.unescape(m.group(2))) for m in re.finditer(r'name="([^"]+)" value="([^"]*)"', page))
fields["decision"] = "agree"
u = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(u.netloc)
conn.request("POST", u.path.replace("/oauth2/authorize", "/oauth2/consent"), urllib.parse.urlencode(fields), {"content-type": "application/x-www-form-urlencoded"})
urllib.request.urlopen(conn.getresponse().getheader("location")).read()
job = gql('mutation($ids:[ID!]!) { downloadOrders(input:{accountIds:$ids}) { jobs { id } } }', {"ids": [acc]}, tok)["downloadOrders"]["jobs"][0]["id"]
while gql('query($id:ID!){ node(id:$id){ ... on Job { status } } }', {"id": job}, tok)["node"]["status"] not in ("SUCCEEDED", "FAILED"):
    time.sleep(0.2)
gql('mutation { syncSkusFromOrders { created } }', tok=tok)
codes, after = [], None
while True:
    p = gql('query($a:String){ skus(first:100, after:$a){ edges { node { code } } pageInfo { hasNextPage endCursor } } }', {"a": after}, tok)["skus"]
    codes += [e["node"]["code"] for e in p["edges"]]
    if not p["pageInfo"]["hasNextPage"]: break
    after = p["pageInfo"]["endCursor"]
decl = {"nameEn": "Gift", "valueMinor": 100, "currency": "USD", "weightGrams": 50}
gql('mutation($s:[SkuInput!]!) { bulkUpsertSkus(input:{skus:$s}) { created updated } }', {"s": [{"code": c, "declaration": decl} for c in codes]}, tok)
ch = gql('mutation { createChannel(input:{code:"BENCH", name:"Bench line", trackingRange:{prefix:"RR", suffix:"CN", start:1, end:99999999}}) { channel { id } userErrors { message } } }', tok=tok)["createChannel"]["channel"]["id"]
ids, after = [], None
while True:
    p = gql('query($a:String){ orders(first:100, after:$a){ edges { node { id } } pageInfo { hasNextPage endCursor } } }', {"a": after}, tok)["orders"]
    ids += [e["node"]["id"] for e in p["edges"]]
    if not p["pageInfo"]["hasNextPage"]: break
    after = p["pageInfo"]["endCursor"]
for i in range(0, len(ids), 1000):
    gql('mutation($ids:[ID!]!, $c:ID!) { setOrderChannel(input:{orderIds:$ids, channelId:$c}) { results { status } } }', {"ids": ids[i:i + 1000], "c": ch}, tok)
print(f"prepared {len(ids)} orders ({len(codes)} SKUs declared)")

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
    gql('mutation($ids:[ID!]!) { pushOrders(input:{orderIds:$ids}) { job { id } } }', {"ids": ids[i:i + 1000]}, tok)
t_req = time.time() - t0
if not done.wait(600):
    raise SystemExit(f"only {len(results)} results after 600 s")
dt = time.time() - t0
pushed = sum(1 for p in results.values() if p["status"] == "PUSHED")
numbers = [p["trackingNumber"] for p in results.values() if p["trackingNumber"]]
print(f"push: {len(ids)} orders accepted in {t_req:.2f}s; all results in {dt:.2f}s -> {len(ids)/dt:.0f} orders/s")
print(f"subscriber: {events[0]} events, {pushed} PUSHED, {len(results) - pushed} failed, "
      f"{len(numbers) - len(set(numbers))} duplicate tracking numbers among results")
