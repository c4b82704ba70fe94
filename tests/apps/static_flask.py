"""A Flask + SQLAlchemy + requests + redis app that patches late (~500 modules before patching)."""

import flask
import redis
import requests
import sqlalchemy
from sqlalchemy import orm  # noqa: F401
from gevent import monkey

app = flask.Flask(__name__)
cache = redis.Redis()
session = requests.Session()

monkey.patch_all()
