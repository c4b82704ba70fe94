"""Patches late after importing an installed package and a module of its own."""

import requests  # noqa: F401
import static_chain_mod  # noqa: F401
from gevent import monkey

monkey.patch_all()
