#!/usr/bin/env python3
"""Read benchmark driver for bench/run (stdlib only): the same three queries against
Shipgate and PostGraphile 5 with wrk, and their SQL through pgbench -M prepared, at 2 and
16 connections, RUNS runs each; medians with min-max, ratios, p99, server RSS. Prints
a Markdown table and writes the raw figures as JSON.

(a) the 50 newest orders with lines + SKU + account + waybill
(b) one order by random id, same fields
(c) order counts and totals by fulfilment status for one account (PostGraphile has no
    GROUP BY without a plugin: its column is the pgbench floor only)"""
import base64, json, os, random, re, statistics, subprocess, sys, threading, time, urllib.request

cfg = json.loads(sys.argv[1])
SG, PGL, DB, ORG, ACC, KEY = cfg["shipgate"], cfg.get("postgraphile"), cfg["db"], cfg["org"], cfg["account"], cfg["key"]
N, RUNS, DURATION, PID = cfg["orders"], cfg["runs"], cfg["duration"], cfg["pid"]
CONNS = cfg.get("conns", [2, 16])
# bench/profile narrows the run to some queries and targets; the table needs all three.
TARGETS = cfg.get("targets", ["shipgate", "postgraphile", "pgbench"])
OUT = cfg["out"]
HERE = os.path.dirname(os.path.abspath(__file__))

# Within Shipgate's default complexity limit (1000) for 50 orders.
SG_FIELDS = ("id platformOrderId fulfillmentStatus total { amountMinor currency } account { name } "
             "waybill { trackingNumber } items { quantity sku { code } }")
PGL_FIELDS = ("rowId platformOrderId fulfillmentStatus totalMinor currency accountByAccountId { name } "
              "waybillsByOrderId { nodes { trackingNumber } } "
              "orderItemsByOrderId { nodes { quantity skusBySkuId { code } } }")
acc_gid = base64.urlsafe_b64encode(f"Account:{ACC.replace('-', '')}".encode()).decode().rstrip("=")
QUERIES = {
    "a": {
        "shipgate": {"query": "{ orders(first: 50) { edges { node { %s } } } }" % SG_FIELDS},
        "postgraphile": {"query": "query($o: UUID!) { allOrders(first: 50, orderBy: ROW_ID_DESC, condition: {organizationId: $o}) { nodes { %s } } }" % PGL_FIELDS,
                         "variables": {"o": ORG}},
        "sql": "a_orders_page.sql",
    },
    "b": {
        "shipgate": {"query": "query($id: ID!) { order(id: $id) { %s } }" % SG_FIELDS, "variables": {"id": "$ID"}},
        "postgraphile": {"query": "query($id: UUID!) { orderByRowId(rowId: $id) { %s } }" % PGL_FIELDS, "variables": {"id": "$ID"}},
        "sql": "b_order_by_id.sql",
    },
    "c": {
        "shipgate": {"query": "query($a: ID!) { orderStats(filter: {accountIds: [$a]}, groupBy: [FULFILLMENT_STATUS]) { fulfillmentStatus count totals { amountMinor currency } } }",
                     "variables": {"a": acc_gid}},
        "postgraphile": None,
        "sql": "c_stats.sql",
    },
}


def order_uuid(n):
    import hashlib
    h = hashlib.md5(f"order:{n}".encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


rng = random.Random(42)
sample = [rng.randrange(N) for _ in range(10_000)]
ids = {
    "shipgate": [base64.urlsafe_b64encode(f"Order:{order_uuid(n).replace('-', '')}".encode()).decode().rstrip("=") for n in sample],
    "postgraphile": [order_uuid(n) for n in sample],
}
QUERIES = {q: v for q, v in QUERIES.items() if q in cfg.get("queries", list(QUERIES))}
os.makedirs(OUT, exist_ok=True)
for target, lst in ids.items():
    with open(f"{OUT}/ids-{target}.txt", "w") as f:
        f.write("\n".join(lst) + "\n")

URL = {"shipgate": SG + "/graphql", "postgraphile": f"{PGL}/graphql"}
AUTH = {"shipgate": "Bearer " + KEY, "postgraphile": ""}


def post(target, body):
    headers = {"content-type": "application/json"}
    if AUTH[target]:
        headers["authorization"] = AUTH[target]
    req = urllib.request.Request(URL[target], json.dumps(body).encode(), headers)
    return json.load(urllib.request.urlopen(req, timeout=60))


def check(target, q, body):
    """One request before timing: no errors, and data that is not empty."""
    b = json.loads(json.dumps(body).replace("$ID", ids[target][0]))
    r = post(target, b)
    if r.get("errors") or not r.get("data") or not any(r["data"].values()):
        raise SystemExit(f"{target} {q}: unexpected answer {str(r)[:500]}")


rss_peak = [0]
stop = threading.Event()


def rss(field="VmRSS"):
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
    return 0


def sample_rss():
    while not stop.is_set():
        rss_peak[0] = max(rss_peak[0], rss())
        time.sleep(0.2)


def wrk(target, q, conns):
    env = dict(os.environ, BENCH_BODY=json.dumps(QUERIES[q][target]), BENCH_AUTH=AUTH[target],
               BENCH_IDS=f"{OUT}/ids-{target}.txt" if q == "b" else "")
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{DURATION}s", "--timeout", "30s", "--latency", "-s", f"{HERE}/wrk/graphql.lua", URL[target]],
                         env=env, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"{target} {q} c={conns}: errors\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    return rps, p99_ms


def pgbench(q, conns):
    out = subprocess.run(["pgbench", "-h", "127.0.0.1", "-U", "postgres", "-n", "-M", "prepared", "-c", str(conns), "-j", "2",
                          "-T", str(DURATION), "-D", f"org={ORG}", "-D", f"acc={ACC}", "-D", f"orders={N}",
                          "-f", f"{HERE}/sql/{QUERIES[q]['sql']}", DB], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PGSSLMODE="disable")).stdout
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    return tps, None


for q in QUERIES:
    for target in ("shipgate", "postgraphile"):
        if QUERIES[q][target] and target in TARGETS:
            check(target, q, QUERIES[q][target])
idle = rss()
threading.Thread(target=sample_rss, daemon=True).start()
results = {}
for q in QUERIES:
    for conns in CONNS:
        for target in TARGETS:
            if target != "pgbench" and not QUERIES[q][target]:
                continue
            runs = [pgbench(q, conns) if target == "pgbench" else wrk(target, q, conns) for _ in range(RUNS)]
            results[f"{q}/{conns}/{target}"] = runs
            rps = [r[0] for r in runs]
            print(f"  ({q}) c={conns:<2} {target:<12} median {statistics.median(rps):8.0f}/s  (min {min(rps):.0f}, max {max(rps):.0f})", flush=True)
stop.set()
with open(f"{OUT}/read.json", "w") as f:
    json.dump({"results": results, "rss_idle_mib": idle, "rss_peak_mib": rss_peak[0]}, f, indent=1)
if len(TARGETS) < 3:
    sys.exit(0)

label = {"a": "(a) 50 newest orders + lines, SKUs, account, waybill", "b": "(b) one order by random id",
         "c": "(c) counts by fulfilment status, one account"}
print()
print("| query | conns | Shipgate req/s (min-max) | p99 ms | PostGraphile 5 req/s | pgbench floor tx/s | Shipgate ÷ PostGraphile | Shipgate ÷ floor |")
print("|---|---|---|---|---|---|---|---|")
for q in QUERIES:
    for conns in CONNS:
        sg = results[f"{q}/{conns}/shipgate"]
        sg_med = statistics.median(r[0] for r in sg)
        p99 = statistics.median(r[1] for r in sg)
        pgl = results.get(f"{q}/{conns}/postgraphile")
        pgl_med = statistics.median(r[0] for r in pgl) if pgl else None
        floor = statistics.median(r[0] for r in results[f"{q}/{conns}/pgbench"])
        fmt = lambda runs: f"{statistics.median(r[0] for r in runs):.0f} ({min(r[0] for r in runs):.0f}-{max(r[0] for r in runs):.0f})"
        print(f"| {label[q]} | {conns} | {fmt(sg)} | {p99:.1f} | {fmt(pgl) if pgl else 'n/a'} | {fmt(results[f'{q}/{conns}/pgbench'])} | "
              f"{f'{sg_med / pgl_med:.2f}x' if pgl_med else 'n/a'} | {sg_med / floor:.0%} |")
print()
print(f"Shipgate RSS: {idle} MiB idle (after loading), peak {rss_peak[0]} MiB under load")
