"""Peers that each live in their own module: ``start() -> dict`` (see compat_tests._peers.start).

A peer that runs a server binary (memcached, slapd, sshd, ...) starts it on a free 127.0.0.1
port in a temporary directory, kills it when the peer process exits, and raises RuntimeError
naming the missing binary and the Debian package that provides it when it is not installed.
"""
