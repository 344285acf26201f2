"""Writing TOML by hand: keys, values and comments, so that every line can carry its reason.

This module owns the spelling of values in the scaffold's files (no TOML
writer keeps comments).  Strings are TOML basic strings (JSON escapes are
valid TOML escapes); codes are integers when whole.

Examples
--------
>>> key("GovTrust"), key("q 5"), value("Don't know"), value([8, 9.0]), value(True)
('GovTrust', '"q 5"', '"Don\\'t know"', '[8, 9]', 'true')
>>> line("weight", "wt", "mean 1.00")
'weight = "wt"  # mean 1.00'
>>> comment_block("a " * 3, width=20)
['# a a a']
"""

from __future__ import annotations

import json
import re
import textwrap

from ..core.meta import plain_code

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def key(name: str) -> str:
    """A TOML key: bare when it can be, else quoted."""
    return name if _BARE.match(name) else value(name)


def value(item) -> str:
    """A TOML value: string, boolean, integer or float, or a list of them."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)
    if isinstance(item, (list, tuple)):
        return "[" + ", ".join(value(i) for i in item) + "]"
    item = plain_code(item)
    if isinstance(item, int):
        return str(item)
    return repr(float(item))


def clean(text: str) -> str:
    """Text on one line (a comment cannot span lines)."""
    return " ".join(str(text).split())


def line(name: str, item, note: str = "", *, commented: bool = False) -> str:
    """``name = value  # note``; with ``commented`` the whole line is a comment."""
    text = f"{key(name)} = {value(item)}"
    if note:
        text += f"  # {clean(note)}"
    return f"# {text}" if commented else text


def comment_block(text: str, *, width: int = 96) -> list[str]:
    """``text`` as comment lines of at most ``width`` characters."""
    return ["# " + part for part in textwrap.wrap(clean(text), width - 2,
                                                  break_on_hyphens=False)] or ["#"]
