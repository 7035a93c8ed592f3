"""The shared validation vocabulary: one message format, naming argument, expectation, value."""

import math

import numpy as np
import pytest

from rnn_tf._checks import check_choice, check_number, check_positive_int


def test_choice_accepts_a_member_and_names_the_argument_otherwise():
    assert check_choice("sum", ("sum", "mean"), "reduction") == "sum"
    with pytest.raises(ValueError, match=r"Argument `reduction` must be one of \('sum', 'mean'\); "
                                         r"received reduction='max'"):
        check_choice("max", ("sum", "mean"), "reduction")


def test_choice_is_type_strict():
    with pytest.raises(ValueError, match="received flag=True"):
        check_choice(True, (1, 2), "flag")
    with pytest.raises(ValueError, match="received k=1.0"):
        check_choice(1.0, (1, 2), "k")


@pytest.mark.parametrize("value", [0.5, 1, np.float32(0.25), np.int64(1)])
def test_number_in_range_returns_a_python_number(value):
    got = check_number(value, "rate", low=0, high=1)
    assert type(got) is float and got == float(value)


@pytest.mark.parametrize("value", [math.nan, math.inf, "0.5", None, True, -0.1, 1.5])
def test_number_out_of_range_or_not_a_number_is_refused(value):
    with pytest.raises(ValueError, match=r"Argument `rate` must be a finite number in \[0, 1\]; "
                                         r"received rate="):
        check_number(value, "rate", low=0, high=1)


def test_open_bounds_and_integers():
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        check_number(0.0, "p", low=0, high=1, low_open=True, high_open=True)
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        check_number(1.0, "p", low=0, high=1, low_open=True, high_open=True)
    assert check_number(np.int32(3), "k", low=1, integer=True) == 3
    with pytest.raises(ValueError, match=r"must be an integer in \[1, inf\]; received k=2.5"):
        check_number(2.5, "k", low=1, integer=True)


def test_positive_int():
    assert check_positive_int(np.int64(4), "units") == 4
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="Argument `units` must be a positive integer"):
            check_positive_int(bad, "units")
