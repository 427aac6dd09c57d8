"""A scan result as JSON and back, for the trip from a scan worker to the store worker through Redis.

``dump(result)`` gives compressed bytes, ``load(ScanResult, data)`` the same dataclasses again:
every ``Decimal`` comes back a ``Decimal`` (money is never a float here), tuples come back
tuples. Values inside free-form dicts (a finding's evidence, an item's data) are written the way
the store writes them to SQLite (``json.dumps(..., default=str)``), so a result stored after the
trip is stored exactly as it would have been without it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
import zlib
from decimal import Decimal
from typing import Any, TypeVar

T = TypeVar("T")
COMPRESSION_LEVEL = 6  # zlib: about 10x smaller for inventories, a few ms per megabyte


def encode(value: Any) -> Any:
    """Plain JSON values from dataclasses, Decimals (as strings), tuples and dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # Decimal, datetime, ...: as the store's json.dumps(default=str) writes them


def decode(kind: Any, value: Any) -> Any:
    """``value`` (from ``encode``) as an instance of the type annotation ``kind``."""
    if value is None or kind is Any:
        return value
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = [k for k in typing.get_args(kind) if k is not type(None)]
        return decode(options[0], value) if len(options) == 1 else value
    if origin in (list, tuple, set, frozenset):
        args = typing.get_args(kind)
        item = args[0] if args else Any
        items = [decode(item, v) for v in value]
        return items if origin is list else origin(items)
    if origin is dict:
        _, item = typing.get_args(kind) or (str, Any)
        return {k: decode(item, v) for k, v in value.items()}
    if kind is Decimal:
        return Decimal(value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        return kind(**{name: decode(hints[name], v) for name, v in value.items() if name in hints})
    return value


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    fields = {f.name for f in dataclasses.fields(kind) if f.init}
    return {name: hint for name, hint in typing.get_type_hints(kind).items() if name in fields}


def dump(value: Any) -> bytes:
    return zlib.compress(json.dumps(encode(value), separators=(",", ":")).encode(), COMPRESSION_LEVEL)


def load(kind: type[T], data: bytes) -> T:
    return typing.cast(T, decode(kind, json.loads(zlib.decompress(data))))
