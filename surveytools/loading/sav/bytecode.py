"""Decoding SPSS compression bytecode without a Python loop over the cases.

Bytecode-compressed data (PSPP's "System File Format", data record) are
8-byte command blocks of 8 codes each: 1-251 a number (code - bias), 252
the end of the data, 253 a raw 8-byte value in the block that follows, 254
eight spaces, 255 system-missing, 0 padding.  :func:`decode` finds the
command blocks and returns their value codes, so that the data check
(:mod:`~surveytools.loading.sav.data`) can count the cases and check each
code against its column.

Examples
--------
>>> import numpy as np
>>> stream = np.array([101, 253, 254, 252, 0, 0, 0, 0, *b"rawvalue"], dtype=np.uint8)
>>> found = decode(stream)
>>> found.codes.tolist(), found.blocks, found.finish, found.misplaced
([101, 253, 254], 2, 2, None)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Decoded", "decode", "CHUNK"]


@dataclass
class Decoded:
    """What :func:`decode` found in a bytecode stream."""

    codes: np.ndarray            # the value codes of the cases, in order
    blocks: int                  # 8-byte blocks in the stream
    finish: int                  # the block where the data end (> blocks: cut off)
    misplaced: int | None        # the first command block with a code after padding


#: Blocks handled at a time: temporaries stay small (and warm) however large the file.
CHUNK = 1 << 20
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_REPEAT = np.uint64(0x0101010101010101)


def _count_bytes(words: np.ndarray, value: int) -> np.ndarray:
    """For each 8-byte word, how many of its bytes equal ``value`` (SWAR, exact)."""
    v = words ^ (_REPEAT * np.uint64(value))
    return np.bitwise_count(~(((v & _LOW7) + _LOW7) | v | _LOW7))


def decode(stream: np.ndarray) -> Decoded:
    """Decode SPSS bytecode: which 8-byte blocks hold commands, and their codes.

    A command block of 8 codes is followed by one 8-byte block of raw data
    for each code 253 in it, so the command blocks form a chain from block 0
    that no single vectorised operation finds.  Most blocks have no 253: a
    run of them is walked one by one, so only the blocks with a 253 (or the
    end code 252) are *nodes* that can jump, and the chain is followed from
    node to node (:func:`_walk`).  The walk stops at the first command block
    with the end code 252.  Everything else is done a chunk of blocks at a
    time with whole-word (8 codes) arithmetic.
    """
    n = len(stream) // 8
    words = stream.view(np.uint64)
    raw = np.empty(n, dtype=np.uint8)
    is_end = np.empty(n, dtype=bool)
    for low in range(0, n, CHUNK):
        chunk = words[low:low + CHUNK]
        raw[low:low + CHUNK] = _count_bytes(chunk, 253)
        is_end[low:low + CHUNK] = _count_bytes(chunk, 252) > 0
    blocks = stream.reshape(n, 8)
    ends = np.flatnonzero(is_end)
    if len(ends):                           # 253s after a 252 do not count
        codes = blocks[ends]
        before = ~np.logical_or.accumulate(codes == 252, axis=1)
        raw[ends] = np.count_nonzero((codes == 253) & before, axis=1)
    raw = raw.astype(np.int64)
    nodes = np.flatnonzero((raw > 0) | is_end)
    if len(nodes):
        following = np.searchsorted(nodes, nodes + 1 + raw[nodes])
        following[is_end[nodes]] = np.iinfo(np.int64).max     # the chain ends at a 252
        chain_nodes = nodes[_walk(following, len(nodes))]
    else:
        chain_nodes = nodes
    stop = None
    if len(chain_nodes) and is_end[chain_nodes[-1]]:
        stop = int(chain_nodes[-1])
        finish, end = stop + 1 + int(raw[stop]), stop
    else:
        last = int(chain_nodes[-1]) if len(chain_nodes) else -1
        finish = max(n, last + 1 + int(raw[last])) if last >= 0 else n
        end = n
    # the command blocks before the end: all but the raw blocks after each chain node
    command = np.ones(end, dtype=bool)
    counts = raw[chain_nodes]
    total = int(counts.sum())
    if total:
        within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        skipped = np.repeat(chain_nodes + 1, counts) + within
        command[skipped[skipped < end]] = False
    pieces, misplaced = [], None
    for low in range(0, end, CHUNK):
        chosen = words[low:min(low + CHUNK, end)][command[low:low + CHUNK]]
        flat = chosen.view(np.uint8)
        present = flat != 0
        # padding (0) only at the end of a block: its non-zero codes form a prefix
        filled = present.view(np.uint64) * np.uint64(0xFF)
        bad = np.flatnonzero(filled & (filled + np.uint64(1)))
        if len(bad) and misplaced is None:
            misplaced = low + int(np.flatnonzero(command[low:low + CHUNK])[bad[0]])
        pieces.append(flat[present])
    if stop is not None:                    # the codes of the last block, before its 252
        last = blocks[stop][:int(np.argmax(blocks[stop] == 252))]
        zero = np.flatnonzero(last == 0)
        if len(zero) and last[zero[0]:].any() and misplaced is None:
            misplaced = stop
        pieces.append(last[last != 0])
    codes = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.uint8)
    return Decoded(codes=codes, blocks=n, finish=finish, misplaced=misplaced)


def _walk(following: np.ndarray, count: int) -> np.ndarray:
    """Which nodes the chain from node 0 visits (``following[i]``: the node after i,
    at most 9 further on, or a huge number where the chain ends)."""
    span = 1024 if count > 8192 else 16
    chunks = -(-count // span)
    lows = np.arange(chunks, dtype=np.int64) * span
    highs = np.minimum(lows + span, count)
    entries = (lows[:, None] + np.arange(9)[None, :]).ravel()
    limit = np.repeat(highs, 9)
    position = entries.copy()
    active = position < limit
    while active.any():
        index = np.flatnonzero(active)
        position[index] = following[position[index]]
        active[index] = position[index] < limit[index]
    exits = position.reshape(chunks, 9)
    entry = np.full(chunks, -1, dtype=np.int64)
    here = 0
    for chunk in range(chunks):
        if here >= count:       # past the last node, or the end code (a huge number)
            break
        offset = here - int(lows[chunk])
        assert 0 <= offset < 9, "a jump crossed a whole chunk"
        entry[chunk] = here
        here = int(exits[chunk, offset])
    visited = np.zeros(count, dtype=bool)
    reached = np.flatnonzero(entry >= 0)
    position = entry[reached].copy()
    limit = highs[reached]
    active = position < limit
    while active.any():
        index = np.flatnonzero(active)
        visited[position[index]] = True
        position[index] = following[position[index]]
        active[index] = position[index] < limit[index]
    return visited

