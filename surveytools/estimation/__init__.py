"""Design-based estimation: variance kernels, estimators, comparisons and tests.

The estimators are reached as :class:`surveytools.Survey` methods
(``survey.mean``, ``survey.proportion``, ...); their results are
:class:`~surveytools.estimation.result.Estimate` objects.
"""

from .result import Estimate

__all__ = ["Estimate"]
