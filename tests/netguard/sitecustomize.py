"""Loaded by every Python subprocess the tests start (PYTHONPATH): no network but loopback."""

import os

if os.environ.get("NETGUARD_LOG"):
    from netguard import install

    install(os.environ["NETGUARD_LOG"])
