"""Batteries of questions (topics) and the default indicators of each question.

This module owns grouping questions and writing their headline numbers.
Questions on the same answer scale form a battery when their variable labels
share a stem ("How acceptable or unacceptable do you find the following?
...") or their names a prefix (``trust_nhs``, ``trust_police``; ``q5a``,
``q5b``); the battery's topic is the shared wording ("How much do you trust
... to use data about you?") and each question's short label is what is
left.  Other questions go under the topic "Other questions".

Indicators per question, by :class:`~surveytools.scaffold.scales.Scale`:
``polar`` top-2 and bottom-2 shares and a net (top-2 minus bottom-2);
``rating`` the share 7-10 and the mean; ``mean`` the mean; ``yesno`` the
share answering yes; ``nominal`` one share per answer.  Don't know stays out
of every base (``dont_know = "exclude"``).

Examples
--------
>>> name_prefix("trust_nhs"), name_prefix("q5a"), name_prefix("Q12_3"), name_prefix("AIacc2")
('trust', 'q5', 'Q12', 'AIacc')
>>> shared_words(["How much do you trust the NHS to use data?",
...               "How much do you trust the police to use data?"])
('How much do you trust the', 'to use data?')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.meta import code_text
from .scales import Scale, span

OTHER_TOPIC = "Other questions"
_STEM = re.compile(r"^(.{12,}?[?:])\s+(\S.*)$")


@dataclass(frozen=True)
class Item:
    """One question to write indicators for."""

    name: str
    label: str
    scale: Scale


@dataclass(frozen=True)
class Battery:
    """Questions on one scale that belong together, with the evidence."""

    topic: str
    items: tuple[Item, ...]
    evidence: str
    short: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndicatorSpec:
    """One ``[[indicator]]`` to write."""

    name: str
    question: str
    kind: str
    topic: str
    label: str
    short_label: str
    row_label: str
    codes: tuple = ()
    minus: tuple = ()


def name_prefix(name: str) -> str:
    """A variable name without its last part: ``trust_nhs`` -> ``trust``, ``q5a`` -> ``q5``."""
    if "_" in name.strip("_"):
        return name.strip("_").rsplit("_", 1)[0]
    match = (re.match(r"^(.*?\d+)[a-z]$", name, re.IGNORECASE)
             or re.match(r"^(.*?[A-Za-z])\d+$", name))
    return match.group(1) if match else ""


def shared_words(labels: list[str]) -> tuple[str, str]:
    """The words every label starts with, and the words every label ends with."""
    words = [label.split() for label in labels]
    shortest = min(len(w) for w in words)
    start = 0
    while start < shortest and all(w[start] == words[0][start] for w in words):
        start += 1
    end = 0
    while end < shortest - start and all(w[-1 - end] == words[0][-1 - end] for w in words):
        end += 1
    return " ".join(words[0][:start]), " ".join(words[0][len(words[0]) - end:]) if end else ""


def group_batteries(items: list[Item]) -> list[Battery]:
    """Batteries among ``items`` (in file order), singletons under :data:`OTHER_TOPIC`."""
    signature: dict[str, list[Item]] = {}
    for item in items:
        signature.setdefault(_signature(item.scale), []).append(item)
    batteries, position = [], {item.name: i for i, item in enumerate(items)}
    for members in signature.values():
        batteries += _split(members)
    batteries.sort(key=lambda b: position[b.items[0].name])
    others = [i for b in batteries if len(b.items) == 1 for i in b.items]
    kept = [b for b in batteries if len(b.items) > 1]
    topics: dict[str, int] = {}
    result = []
    for battery in kept:
        topic = battery.topic
        topics[topic] = topics.get(topic, 0) + 1
        if topics[topic] > 1:
            topic = f"{topic} ({topics[topic]})"
        result.append(Battery(topic, battery.items, battery.evidence, battery.short))
    if others:
        others.sort(key=lambda i: position[i.name])
        result.append(Battery(OTHER_TOPIC, tuple(others),
                              "questions that share no label stem or name prefix with another "
                              "question on the same scale",
                              tuple(_shorten(i.label or i.name, 80) for i in others)))
    return result


def _signature(scale: Scale) -> str:
    labels = scale.labels or {}
    return scale.kind + "|" + "|".join(f"{code_text(c)}={labels.get(c, '')}".lower()
                                       for c in scale.answers)


def _split(members: list[Item]) -> list[Battery]:
    """Batteries of one scale: by label stem, then name prefix, then shared opening words."""
    found, left = [], list(members)
    for key, how in ((_label_stem, "label stem"), (lambda i: name_prefix(i.name), "name prefix"),
                     (_opening, "opening words")):
        groups: dict[str, list[Item]] = {}
        for item in left:
            value = key(item)
            if value:
                groups.setdefault(value, []).append(item)
        taken = set()
        for value, group in groups.items():
            if len(group) >= 2:
                found.append(_battery(group, how, value))
                taken |= {i.name for i in group}
        left = [i for i in left if i.name not in taken]
    found += [Battery(OTHER_TOPIC, (i,), "", (_shorten(i.label or i.name, 80),)) for i in left]
    return found


def _label_stem(item: Item) -> str:
    match = _STEM.match(item.label or "")
    return match.group(1) if match else ""


def _opening(item: Item) -> str:
    words = (item.label or "").split()
    return " ".join(words[:4]) if len(words) >= 6 else ""


def _battery(group: list[Item], how: str, value: str) -> Battery:
    labels = [i.label or i.name for i in group]
    start, end = shared_words(labels) if all(i.label for i in group) else ("", "")
    if how == "label stem":
        topic = value
    elif start and end:
        topic = f"{start} ... {end}"
    elif len(start.split()) >= 3:
        topic = start if start[-1:] in "?:." else f"{start} ..."
    else:
        topic = f"Questions {value}*"
    shorts = []
    for label in labels:
        if how == "label stem":
            shorts.append(_shorten(label[len(value):], 80) or _shorten(label, 80))
            continue
        words = label.split()
        middle = words[len(start.split()):len(words) - len(end.split()) if end else None]
        shorts.append(_shorten(" ".join(middle), 80) or _shorten(label, 80))
    names = ", ".join(i.name for i in group[:6]) + (" ..." if len(group) > 6 else "")
    evidence = (f"{len(group)} questions ({names}) on one scale sharing the {how} "
                f'"{value}"' + (f'; {group[0].scale.evidence}' if group[0].scale.evidence else ""))
    return Battery(_shorten(topic, 90), tuple(group), evidence, tuple(shorts))


def _shorten(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split()).strip(" -:")
    if text[:1].islower():
        text = text[0].upper() + text[1:]
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def indicators(battery: Battery) -> list[IndicatorSpec]:
    """The default indicators of every question of a battery."""
    out = []
    for item, short in zip(battery.items, battery.short):
        out += _for_item(item, short, battery.topic)
    return out


def _for_item(item: Item, short: str, topic: str) -> list[IndicatorSpec]:
    scale, name = item.scale, item.name
    wording = _shorten(item.label or name, 120)

    def spec(suffix, kind, row, codes=(), minus=()):
        text = f"{wording} {row}" if wording[-1:] in "?.:!" else f"{wording}: {row}"
        return IndicatorSpec(f"{name}_{suffix}", name, kind, topic, text, short, row,
                             tuple(codes), tuple(minus))

    if scale.kind == "polar":
        plus_text = _pole(scale, scale.plus, scale.plus_word)
        minus_text = _pole(scale, scale.minus, scale.minus_word)
        return [spec("top2", "share", f"{plus_text} ({span(scale.plus)})", scale.plus),
                spec("bottom2", "share", f"{minus_text} ({span(scale.minus)})", scale.minus),
                spec("net", "net", f"Net: {plus_text.lower()} minus {minus_text.lower()}",
                     scale.plus, scale.minus)]
    if scale.kind == "rating":
        pole = scale.plus[-1] if scale.plus[-1] == 10 else scale.plus[0]
        word = _end_word(scale.label(pole))
        return [spec("high", "share", f"{word} ({span(scale.plus)})" if word
                     else f"{span(scale.plus)} on 0-10", scale.plus),
                spec("mean", "mean", "Mean score (0-10)")]
    if scale.kind == "mean":
        return [spec("mean", "mean", "Mean")]
    if scale.kind == "yesno":
        yes = scale.plus[0]
        return [spec("yes", "share", f"{scale.label(yes)} ({code_text(yes)})", scale.plus)]
    return [spec(_code_suffix(code), "share", f"{_shorten(scale.label(code), 60)} "
                 f"({code_text(code)})", (code,)) for code in scale.answers]


def _end_word(label: str) -> str:
    """The content word of an end-point label: "Trust" of "10 - Trust completely"."""
    words = [w for w in re.findall(r"[A-Za-z']+", label)
             if w.lower() not in {"completely", "totally", "entirely", "extremely", "very", "a",
                                  "great", "deal", "lot", "fully", "strongly", "all", "at"}]
    return words[0].capitalize() if len(words) == 1 else ""


def _pole(scale: Scale, codes: tuple, word: str) -> str:
    if word:
        return word.capitalize()
    return " or ".join(scale.label(c) for c in codes)


def _code_suffix(code) -> str:
    text = code_text(code).replace("-", "m").replace(".", "_")
    return f"c{text}"
