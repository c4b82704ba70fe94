"""A requests.Session warmed at import: its pool keeps a keep-alive socket."""

import os

import requests

URL = os.environ["DEEP_HTTP_URL"]
session = requests.Session()
session.get(URL + "/").raise_for_status()


def use() -> int:
    return session.get(URL + "/slow").status_code
