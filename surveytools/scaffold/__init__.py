"""Scaffold a tracker from its files: ``surveytools init FILE [FILE ...] --out DIR``.

:func:`scaffold_tracker` reads the files' metadata (and only the data it must
inspect) and writes ``waves.toml``, ``indicators.toml``, ``breakdowns.toml``
and a short ``README.md``, every choice commented with its evidence;
:func:`print_summary` prints what it found (the ``--dry-run`` output).

=====================  ======================================================
module                 owns
=====================  ======================================================
``files``              reading the inputs; wave labels and their order
``detect``             weight, strata, PSU and fpc, with evidence
``missing``            ``[missing]`` declarations from the non-answer audit
``renames``            renames between waves from identical variable labels
``recodes``            codes that mean other things in two waves: recode or split
``breaks``             series breaks (mode changes) and reworded questions
``demographics``       breakdowns from demographic variables
``scales``             the answer scale of a question and its direction
``batteries``          topics (batteries) and the default indicators
``toml``, ``write``    the text of each file; the summary
``model``              the frozen :class:`Scaffold`
``run``                the steps, the self-check and the writing
=====================  ======================================================
"""

from .model import Scaffold
from .run import print_summary, scaffold_tracker
from .write import summary

__all__ = ["scaffold_tracker", "print_summary", "summary", "Scaffold"]
