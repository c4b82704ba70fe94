"""A backtracking regex that holds the GIL far longer than any audit timeout."""

import re

import gevent


def matcher():
    re.match(r"(a+)+$", "a" * 40 + "b")


gevent.spawn(matcher).join()
