#!/usr/bin/env python3
"""Drives bench/labels against a running Shipgate: prepare and push the sandbox eBay
orders, set a sender address, then time one printLabels call over all their waybills and
read the server's peak RSS during it (VmHWM, reset through /proc/PID/clear_refs first)."""
import os, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import Client

BASE, N, PID = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def status(field):
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024  # MiB
    return -1


c = Client(BASE)
c.sign_up()
decl = {"declaration": {"nameEn": "Phone case", "nameCn": "手机壳", "valueMinor": 350, "currency": "USD",
                        "weightGrams": 60, "hsCode": "392690", "originCountry": "CN"},
        "pickingInfo": "黑色 A-3 货架"}
ids, ncodes = c.prepare_orders(decl)
for i in range(0, len(ids), 1000):
    c.gql('mutation($ids:[ID!]!) { pushOrders(input:{orderIds:$ids}) { job { id } } }', {"ids": ids[i:i + 1000]})
deadline = time.time() + 600
while True:
    left = c.gql('{ orders(first: 1, filter: {fulfillmentStatus: [PUSHING]}) { totalCount } }')["orders"]["totalCount"]
    if left == 0:
        break
    if time.time() > deadline:
        raise SystemExit(f"{left} orders still pushing after 600 s")
    time.sleep(0.5)
waybills = [n["id"] for n in c.all_nodes("waybills", "id", ', filter: {status: [FORECASTED]}')][:1000]
c.gql('mutation { updateSenderAddress(input: {address: {name: "深圳仓 Shenzhen DC", line1: "18 Keji Rd, Nanshan", '
      'city: "Shenzhen", postalCode: "518057", countryCode: "CN"}}) { userErrors { message } } }')
template = next(t["id"] for t in c.gql("{ labelTemplates { id code } }")["labelTemplates"] if t["code"] == "LABEL_100X150_CN22")
print(f"prepared {len(ids)} orders, {len(waybills)} forecasted waybills ({ncodes} SKUs declared)")
rss_before = status("VmRSS")
with open(f"/proc/{PID}/clear_refs", "w") as f:
    f.write("5")
t0 = time.time()
p = c.gql('mutation($w:[ID!]!, $t:ID!) { printLabels(input: {waybillIds: $w, templateId: $t}) '
          '{ results { status warnings { code message } } file { url pageCount byteSize } userErrors { code message } } }',
          {"w": waybills, "t": template})["printLabels"]
dt = time.time() - t0
peak = status("VmHWM")
assert not p["userErrors"], p["userErrors"]
printed = sum(1 for r in p["results"] if r["status"] == "PRINTED")
warned = sum(1 for r in p["results"] if r["warnings"])
t1 = time.time()
pdf = urllib.request.urlopen(p["file"]["url"]).read()
dl = time.time() - t1
print(f"printLabels: {printed} labels PRINTED ({warned} with warnings) in {dt:.2f}s -> {printed/dt:.0f} labels/s; "
      f"PDF {p['file']['pageCount']} pages, {len(pdf)/1e6:.2f} MB, downloaded in {dl:.2f}s")
kinds = {}
for r in p["results"]:
    for w in r["warnings"]:
        kinds[(w["code"], w["message"])] = kinds.get((w["code"], w["message"]), 0) + 1
for (code, msg), n in sorted(kinds.items(), key=lambda kv: -kv[1]):
    print(f"  warning x{n}: {code}: {msg}")
print(f"server RSS: {rss_before} MiB before, peak {peak} MiB while printing (+{peak - rss_before} MiB)")
