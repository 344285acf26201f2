"""Error messages say where, what was expected, what was found and how to fix it."""

import pickle

from surveytools import DataError, SurveyError
from surveytools.core.errors import row_number


def test_message_names_every_part():
    err = DataError("weights must be non-negative", file="w.sav", column="wt", row=3,
                    expected="a weight >= 0", found="-2.0", hint="fix the weight")
    text = str(err)
    assert text.startswith("w.sav, column 'wt', row 3: weights must be non-negative")
    assert "expected a weight >= 0" in text and "found -2.0" in text and "Fix: fix the weight" in text
    assert isinstance(err, SurveyError) and isinstance(err, ValueError)
    assert (err.file, err.column, err.row) == ("w.sav", "wt", 3)


def test_message_without_location_is_just_the_message():
    assert str(SurveyError("something")) == "something"


def test_rows_are_counted_from_one():
    assert row_number(0) == 1


def test_errors_survive_pickling_for_worker_processes():
    err = DataError("bad", file="f.csv", column="c", row=2)
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is DataError
    assert (again.file, again.column, again.row) == ("f.csv", "c", 2)
    assert str(again) == str(err)
