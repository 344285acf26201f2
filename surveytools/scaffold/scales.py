"""What kind of answer scale a question has, judged from its value labels and values.

This module owns one decision per question: which headline numbers suit its
scale.  :func:`classify` returns a :class:`Scale`:

=============  ===============================================================
kind           headline numbers (written by :mod:`surveytools.scaffold.batteries`)
=============  ===============================================================
``polar``      4-5 answers running from one pole to the other ("Strongly agree"
               ... "Strongly disagree"): top-2 and bottom-2 shares and a net
``rating``     0-10 labelled at its end points: the share 7-10 and the mean
``mean``       a numeric scale whose middle codes carry no labels, an unlabelled
               0-10 item, or a number the file measures as "scale": the mean
               only, since a share needs codes the labels cover
``yesno``      Yes / No: the share answering yes
``nominal``    any other labelled question with 2-20 answers: one share per answer
=============  ===============================================================

Direction comes from the labels: :func:`polarity` reads "Strongly agree",
"Very acceptable", "A great deal" as the positive pole and "disagree",
"unacceptable", "Not at all" as the negative one, so a scale with
"Strongly agree" at code 1 gets top-2 = codes 1-2.

Examples
--------
>>> polarity("Strongly agree"), polarity("Tend to disagree"), polarity("Neither agree nor disagree")
(1, -1, 0)
>>> scale = classify({1: "Agree strongly", 2: "Agree", 3: "Neither", 4: "Disagree",
...                   5: "Disagree strongly"}, values=[1, 2, 3, 4, 5])
>>> scale.kind, scale.plus, scale.minus
('polar', (1, 2), (4, 5))
>>> classify({0: "Not at all", 10: "Completely"}, values=range(11)).plus
(7, 8, 9, 10)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core.meta import code_text

#: Most answers a question may have and still get one share per answer.
MAX_NOMINAL = 20

_NEUTRAL = re.compile(
    r"\bneither\b|\bneutral\b|\bmixed\b|\babout (the same|equal)|\bequal(ly)?\b|\bin between\b"
    r"|\bdepends\b|\bno difference\b|\bmiddle\b|\bundecided\b|\bunsure\b|\bsometimes\b", re.I)
_NEGATIVE = re.compile(
    r"\bnot\b|\bno\b|\bnever\b|\bnone\b|\bnothing\b|\bhardly\b|\brarely\b|\boppose|\bagainst\b"
    r"|\bbad\b|\bpoor|\bworse\b|\bdis(agree|satisf|trust|like|approv|comfort)"
    r"|\bun(acceptable|likely|important|satisf|comfortable|confident|safe|fair|favou?rable|happy"
    r"|willing|supportive|reasonable|helpful|trustworthy|ethical|appropriate|necessary|useful"
    r"|justified|clear|easy|interested|concerned|aware|familiar|informed|secure)"
    r"|\bin(appropriate|effective|secure|adequate|sufficient|correct)|\bim(possible|probable)",
    re.I)
_POSITIVE = re.compile(
    r"\b(strongly|very|fairly|quite|somewhat|slightly|completely|totally|entirely|extremely"
    r"|a great deal|a lot|a fair amount|mostly|always|often|definitely|probably|agree|accept"
    r"|likely|trust|satisf|support|confident|important|comfortable|good|well|favou?r|approve"
    r"|happy|safe|concern|worr|interest|useful|help|aware|familiar|informed|secure|yes)", re.I)
_YES = re.compile(r"^\s*(yes|mentioned|selected|ticked|true|chosen|applies|done)\b", re.I)
_NO = re.compile(r"^\s*(no|not (mentioned|selected|ticked|chosen)|false|does not apply"
                 r"|doesn.t apply|not done)\b", re.I)
#: Words of a label that say how strongly, not what: left out of a row label's key word.
_INTENSITY = {"strongly", "very", "fairly", "quite", "somewhat", "slightly", "tend", "to",
              "completely", "totally", "a", "great", "deal", "lot", "not", "at", "all", "much",
              "extremely", "entirely", "mostly"}


@dataclass(frozen=True)
class Scale:
    """The answer scale of one question.

    Parameters
    ----------
    kind : {"polar", "rating", "mean", "yesno", "nominal"}
    answers : tuple
        The substantive answer codes (labelled, not non-answers), in order.
    plus, minus : tuple
        ``polar``: the positive and negative pairs; ``rating``: ``plus`` is
        the high share (7-10); ``yesno``: ``plus`` is the yes code.
    evidence : str
        Why, in words, for the catalogue's comments.
    plus_word, minus_word : str
        The word the pole labels share ("acceptable", "unacceptable"), or "".
    """

    kind: str
    answers: tuple = ()
    plus: tuple = ()
    minus: tuple = ()
    evidence: str = ""
    plus_word: str = ""
    minus_word: str = ""
    labels: Mapping[Any, str] | None = None

    def label(self, code) -> str:
        return (self.labels or {}).get(code, code_text(code))


def polarity(label: str) -> int:
    """+1 for a positive pole ("Strongly agree"), -1 for a negative one, 0 otherwise.

    >>> [polarity(t) for t in ("A great deal", "Not very much", "Very unacceptable", "Mixed")]
    [1, -1, -1, 0]
    """
    if not isinstance(label, str):
        return 0
    if _NEUTRAL.search(label):
        return 0
    if _NEGATIVE.search(label):
        return -1
    return 1 if _POSITIVE.search(label) else 0


def classify(labels: Mapping[Any, str], *, values: Iterable = (), measure: str = ""
             ) -> Scale | None:
    """The scale of a question from its answer labels and the values it takes.

    Parameters
    ----------
    labels : mapping code -> label
        The question's value labels **without** its non-answers (Don't know,
        declared missing codes).
    values : iterable
        The distinct values the question takes in the data, non-answers left out.
    measure : str
        The file's measure level ("scale" makes an unlabelled number a scale).

    Returns
    -------
    Scale or None
        None when no headline number suits it (the reason is :func:`why_not`).
    """
    labels = {c: str(t) for c, t in labels.items() if isinstance(c, (int, float))}
    values = sorted({v for v in values if isinstance(v, (int, float))})
    codes = sorted(labels)
    spread = [v for v in values if v not in labels]
    if _is_rating(codes, values):
        return _rating(labels, codes)
    if len(codes) >= 2 and spread and all(float(v).is_integer() for v in values) \
            and min(codes) <= min(values) and max(values) <= max(codes) and len(codes) < 4:
        return Scale("mean", answers=tuple(codes), labels=labels, evidence=(
            f"a {code_text(min(codes))}-{code_text(max(codes))} scale labelled only at "
            f"{', '.join(code_text(c) for c in codes)}: the mean"))
    if not labels:
        if _unlabelled_rating(values):
            return Scale("mean", evidence=(
                f"no value labels, whole numbers {code_text(min(values))}-"
                f"{code_text(max(values))}: read as a 0-10 scale, the mean only (a share "
                "needs value labels at 0 and 10, which the catalogue checks codes against)"))
        if measure == "scale" and len(values) >= 2:
            return Scale("mean", evidence=(
                f"a number the file measures as a scale ({code_text(min(values))} to "
                f"{code_text(max(values))}), no answer labels: the mean"))
        return None
    if len(codes) == 2:
        yes = [c for c in codes if _YES.search(labels[c])]
        no = [c for c in codes if _NO.search(labels[c])]
        if len(yes) == 1 and len(no) == 1:
            return Scale("yesno", answers=tuple(codes), plus=(yes[0],), labels=labels,
                         evidence=f'yes/no: {code_text(yes[0])} "{labels[yes[0]]}"')
    if len(codes) in (4, 5):
        polar = _polar(labels, codes)
        if polar is not None:
            return polar
    if 2 <= len(codes) <= MAX_NOMINAL:
        return Scale("nominal", answers=tuple(codes), labels=labels,
                     evidence=f"{len(codes)} answers without a clear order: one share per answer")
    return None


def why_not(labels: Mapping, values: Iterable) -> str:
    """Why :func:`classify` found no scale, for the README's list of skipped variables."""
    if not labels:
        return "no value labels, not a 0-10 item and not measured as a scale"
    if len(labels) > MAX_NOMINAL:
        return f"{len(labels)} answers: too many for one share each (a coding frame?)"
    return "only one answer besides its non-answers"


def _is_rating(codes: list, values: list) -> bool:
    """0-10 labelled at (least) its ends, taking values inside them."""
    return (bool(codes) and min(codes) == 0 and max(codes) == 10
            and all(float(c).is_integer() for c in codes)
            and all(float(v).is_integer() and 0 <= v <= 10 for v in values))


def _rating(labels: dict, codes: list) -> Scale:
    low, high = polarity(labels[0]), polarity(labels[10])
    named = f'0 "{labels[0]}" to 10 "{labels[10]}"'
    if low > 0 > high:
        return Scale("rating", answers=tuple(range(11)), plus=(0, 1, 2, 3), labels=labels,
                     evidence=f"0-10 scale, {named}: the positive end is 0, so the high share "
                              "is 0-3 (and a low mean is positive)")
    return Scale("rating", answers=tuple(range(11)), plus=(7, 8, 9, 10), labels=labels,
                 evidence=f"0-10 scale, {named}: share 7-10 and mean")


def _unlabelled_rating(values: list) -> bool:
    return (len(values) >= 6 and all(float(v).is_integer() for v in values)
            and min(values) in (0, 1) and max(values) == 10)


def _polar(labels: dict, codes: list) -> Scale | None:
    signs = [polarity(labels[c]) for c in codes]
    first, last = signs[:2], signs[-2:]
    if not (first[0] == first[1] != 0 and last[0] == last[1] == -first[0]):
        return None
    if len(codes) == 5 and signs[2] != 0:
        return None  # the middle answer leans one way: not a balanced scale
    low, high = tuple(codes[:2]), tuple(codes[-2:])
    plus, minus = (low, high) if first[0] > 0 else (high, low)
    pole = plus[0] if plus == low else plus[-1]
    return Scale("polar", answers=tuple(codes), plus=plus, minus=minus, labels=labels,
                 plus_word=_key_word([labels[c] for c in plus]),
                 minus_word=_key_word([labels[c] for c in minus]),
                 evidence=(f'{len(codes)}-point scale with "{labels[pole]}" at code '
                           f"{code_text(pole)}: top-2 = {_span(plus)}, "
                           f"bottom-2 = {_span(minus)}"))


def _key_word(texts: list[str]) -> str:
    """The content word every label shares ("acceptable" of "Very/Fairly acceptable"), or ""."""
    words = [[w for w in re.findall(r"[A-Za-z']+", t.lower()) if w not in _INTENSITY]
             for t in texts]
    common = [w for w in words[0] if all(w in other for other in words[1:])]
    return common[-1] if common else ""


def _span(codes: tuple) -> str:
    """``4-5`` for consecutive codes, ``1, 3`` otherwise."""
    codes = sorted(codes)
    if len(codes) > 1 and codes == list(range(int(codes[0]), int(codes[-1]) + 1)):
        return f"{code_text(codes[0])}-{code_text(codes[-1])}"
    return ", ".join(code_text(c) for c in codes)


def span(codes) -> str:
    """Codes as a person writes them: ``7-10`` or ``1, 3``.

    >>> span((7, 8, 9, 10)), span((1, 3))
    ('7-10', '1, 3')
    """
    return _span(tuple(codes))
