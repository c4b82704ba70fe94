"""PK102 wording: a factory and a class bound before patching, next to a function."""

from socket import socket as Socket
from threading import Lock as make_lock
from time import sleep as nap
