"""Writes to stdout a lot, including things that look like JSON."""

import sys

import gevent

print('{"schema": 0, "not": "the report"}')
for n in range(200):
    print(f"line {n}")
    gevent.sleep(0)
sys.stdout.write("no newline at the end")
