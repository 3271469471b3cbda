#!/usr/bin/env python3
"""Connects the sandbox eBay account of a running Shipgate and times a full order download
(then a re-download). Used by bench/download (see there); stdlib only."""
import json, re, subprocess, sys, time, urllib.request, urllib.parse, http.client, html
BASE = sys.argv[1]
def gql(q, v=None, tok=None):
    req = urllib.request.Request(BASE + "/graphql", data=json.dumps({"query": q, "variables": v or {}}).encode(),
                                 headers={"content-type": "application/json", **({"authorization": "Bearer " + tok} if tok else {})})
    return json.load(urllib.request.urlopen(req))
r = gql('mutation { signUp(input:{organizationName:"Bench", email:"bench@example.com", password:"benchmark password 1"}) { accessToken } }')
tok = r["data"]["signUp"]["accessToken"]
r = gql('mutation { startAccountAuthorization(input:{platform: EBAY, name:"bench"}) { account { id } authorizationUrl } }', tok=tok)
acc = r["data"]["startAccountAuthorization"]["account"]["id"]; url = r["data"]["startAccountAuthorization"]["authorizationUrl"]
page = urllib.request.urlopen(url).read().decode()
fields = dict((m.group(1), html.unescape(m.group(2))) for m in re.finditer(r'name="([^"]+)" value="([^"]*)"', page))
fields["decision"] = "agree"
u = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(u.netloc)
conn.request("POST", u.path.replace("/oauth2/authorize", "/oauth2/consent"), urllib.parse.urlencode(fields), {"content-type": "application/x-www-form-urlencoded"})
loc = conn.getresponse().getheader("location")
urllib.request.urlopen(loc).read()
def run():
    r = gql('mutation($ids:[ID!]!) { downloadOrders(input:{accountIds:$ids}) { jobs { id } } }', {"ids": [acc]}, tok)
    job = r["data"]["downloadOrders"]["jobs"][0]["id"]
    t0 = time.time()
    while True:
        j = gql('query($id:ID!){ node(id:$id){ ... on Job { status progress lastError } } }', {"id": job}, tok)["data"]["node"]
        if j["status"] in ("SUCCEEDED", "FAILED"):
            return time.time() - t0, j
        time.sleep(0.05)
dt, j = run()
print(f"first download: {j['status']} {j['progress']['new']} new orders, {j['progress']['pages']} pages in {dt:.2f}s -> {j['progress']['new']/dt:.0f} orders/s")
dt2, j2 = run()
print(f"re-download: {j2['status']} new={j2['progress']['new']} updated={j2['progress']['updated']} in {dt2:.2f}s")
