"""What an estimator is given: a :class:`Sample`, the typed input of the estimation layer.

A :class:`surveytools.Survey` hands its estimators a Sample (``survey.sample``)
instead of its private members.  The Sample holds the respondents, the design,
the metadata, the small-base rule and the calibration, plus the two caches
that make repeated estimates cheap: each column factorised once
(:meth:`Sample.codes`) and the design coded once (:attr:`Sample.prepared`).
Estimation code imports nothing above this module.

Examples
--------
>>> import pandas as pd, surveytools as st
>>> survey = st.Survey(pd.DataFrame({"wt": [1.0, 2.0, 1.0], "g": ["b", "a", "b"]}),
...                    st.Design(weight="wt"))
>>> codes, levels = survey.sample.codes("g")
>>> codes.tolist(), levels.tolist()
([1, 0, 1], ['a', 'b'])
>>> survey.sample.prepared.n
3
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from ..core.design import AnyDesign
from ..core.meta import Metadata
from ..core.nonanswers import suspects
from ..core.smallbase import SmallBaseRule
from .prepared import PreparedDesign, prepare


@dataclass(frozen=True, eq=False)
class Sample:
    """The respondents and their design, as the estimators read them.

    Attributes
    ----------
    data : DataFrame
        One row per respondent; never written to.
    design : Design or ReplicateDesign
    meta : Metadata
    small_base : SmallBaseRule
    calibration : object or None
        ``residualise(scores) -> scores`` of a raked survey (see
        :func:`surveytools.rake`), or None.
    """

    data: pd.DataFrame
    design: AnyDesign
    meta: Metadata
    small_base: SmallBaseRule
    calibration: object | None = None

    @property
    def wave(self) -> str | None:
        return self.meta.wave

    @cached_property
    def prepared(self) -> PreparedDesign:
        """The design as integer codes (computed once per Sample)."""
        return prepare(self)

    def codes(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """``(codes, levels)``: ``column`` factorised (sorted levels, -1 where missing).

        Cached: each column is factorised once and estimators work on its few
        distinct levels instead of every row.  The codes are read-only.
        """
        cache = self.__dict__.setdefault("_codes", {})
        if column not in cache:
            codes, levels = pd.factorize(self.data[column], sort=True)
            codes.flags.writeable = False
            cache[column] = (codes, np.asarray(levels))
        return cache[column]

    def non_answers(self, column: str) -> tuple[dict, ...]:
        """Codes of ``column`` that look like non-answers but count as answers
        (rows of :func:`surveytools.core.nonanswers.audit`), computed once."""
        cache = self.__dict__.setdefault("_non_answers", {})
        if column not in cache:
            values = self.data[column]
            numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            found: list = []
            if numeric or self.meta.value_labels.get(column):
                codes, levels = self.codes(column)
                # screen the few distinct values first; count rows only for a suspect
                present = pd.Series(1, index=pd.Index(levels, dtype=object))
                if suspects(column, present, self.meta, numeric=numeric):
                    counts = np.bincount(codes[codes >= 0], minlength=len(levels))
                    found = suspects(column, pd.Series(counts, index=present.index), self.meta,
                                     numeric=numeric)
            cache[column] = tuple(found)
        return cache[column]

    def warn_once(self, key) -> bool:
        """True the first time ``key`` is seen by this Sample (one warning per variable)."""
        seen = self.__dict__.setdefault("_warned", set())
        if key in seen:
            return False
        seen.add(key)
        return True


def as_sample(source) -> Sample:
    """The Sample of ``source``: a Sample itself, or anything with a ``sample``
    attribute holding one (a :class:`surveytools.Survey`)."""
    if isinstance(source, Sample):
        return source
    sample = getattr(source, "sample", None)
    if isinstance(sample, Sample):
        return sample
    raise TypeError(f"expected a Survey or a Sample, not {type(source).__name__}")
