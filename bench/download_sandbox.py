#!/usr/bin/env python3
"""Connects the sandbox eBay account of a running Shipgate and times a full order download
(then a re-download). Used by bench/download (see there); stdlib only."""
import os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from client import Client

c = Client(sys.argv[1])
c.sign_up()
acc = c.connect_ebay()
run = lambda: c.download(acc)
dt, j = run()
print(f"first download: {j['status']} {j['progress']['new']} new orders, {j['progress']['pages']} pages in {dt:.2f}s -> {j['progress']['new']/dt:.0f} orders/s")
dt2, j2 = run()
print(f"re-download: {j2['status']} new={j2['progress']['new']} updated={j2['progress']['updated']} in {dt2:.2f}s")
