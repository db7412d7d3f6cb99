"""Shared helpers for the drivers' recorded frames and protocol fuzzing.

Every driver keeps recorded frames in `frames/*.txt`: one frame a line, columns
separated by runs of spaces, `#` comments. The columns are a kind, optional
driver-specific columns (ST,GS has an address), an expectation, and the frame
as a Python bytes literal (or as hex, for binary protocols such as Chafon's).
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_agent.errors import FrameError


def literal_bytes(text: str) -> bytes:
    """A frame column written as a Python bytes literal."""
    frame = ast.literal_eval(text)
    assert isinstance(frame, bytes), text
    return frame


@dataclass(frozen=True)
class Recorded:
    kind: str
    expect: str
    frame: bytes
    extra: tuple[str, ...] = ()  # driver-specific columns between kind and expect


def load_frames(
    path: Path, *, extra: int = 0, decode: Callable[[str], bytes] = literal_bytes
) -> list[Recorded]:
    """Read a recorded-frames file; `extra` columns sit between kind and expect."""
    rows = []
    for line in path.read_text(encoding="ascii").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, *columns, expect, frame = line.split(None, 2 + extra)
        assert len(columns) == extra, line
        rows.append(Recorded(kind, expect, decode(frame.strip()), tuple(columns)))
    return rows


def mutate(rng: random.Random, frame: bytes) -> bytes:
    """Flip, drop or insert one byte of a frame."""
    data = bytearray(frame)
    pos = rng.randrange(len(data) + 1)
    op = rng.randrange(3)
    if op == 0 and pos < len(data):
        data[pos] = rng.randrange(256)
    elif op == 1 and pos < len(data):
        del data[pos]
    else:
        data.insert(pos, rng.randrange(256))
    return bytes(data)


def fuzz_parser(
    parse: Callable[[bytes], Any],
    valid: Sequence[bytes],
    alphabet: bytes,
    rounds: int = 3000,
) -> list[Any]:
    """Feed a parser random bytes, random protocol-alphabet bytes and mutated
    valid frames (random.Random(0)); anything but FrameError propagates.

    Returns what parsed, for the caller to check.
    """
    rng = random.Random(0)
    parsed = []
    for _ in range(rounds):
        choice = rng.random()
        if choice < 0.3:
            frame = bytes(rng.randrange(256) for _ in range(rng.randrange(40)))
        elif choice < 0.6:
            frame = bytes(rng.choice(alphabet) for _ in range(rng.randrange(30)))
        else:
            frame = mutate(rng, rng.choice(valid))
        try:
            parsed.append(parse(frame))
        except FrameError:
            continue
    return parsed
