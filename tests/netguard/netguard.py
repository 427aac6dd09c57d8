"""Refuse, and record, any connection or DNS lookup that is not loopback.

A test whose code would reach a real AWS endpoint (or anything off this machine) fails: the
call raises at once, and the conftest fails the test from the log even if the code swallowed
the error.
"""

from __future__ import annotations

import ipaddress
import os
import socket

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_installed = False


def is_loopback(host: object) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host)
    if host in _LOOPBACK_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def install(log_path: str) -> None:
    global _installed
    if _installed:
        return
    _installed = True
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def record(what: str) -> None:
        with open(log_path, "a") as fh:
            fh.write(f"{os.getpid()} {what}\n")

    def guarded_getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if not is_loopback(host):
            record(f"getaddrinfo {host}")
            raise OSError(f"network guard: lookup of {host!r} refused (tests use loopback only)")
        return real_getaddrinfo(host, *args, **kwargs)

    def _check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
            if not is_loopback(address[0]):
                record(f"connect {address[0]}:{address[1]}")
                raise OSError(f"network guard: connection to {address[0]} refused (tests use loopback only)")

    def guarded_connect(self, address):  # type: ignore[no-untyped-def]
        _check(self, address)
        return real_connect(self, address)

    def guarded_connect_ex(self, address):  # type: ignore[no-untyped-def]
        _check(self, address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = guarded_getaddrinfo
    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect_ex
