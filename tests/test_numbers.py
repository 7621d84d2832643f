"""core.numbers: one set of display rules for the page, the CLI and the charts."""

import math

import pytest

from core.numbers import (
    decimals_for,
    format_count,
    format_mean_std,
    format_seconds,
    format_significant,
    format_value,
)


def test_counts_have_thousands_separators():
    assert format_count(1409) == "1,409" and format_count(20640) == "20,640" and format_count(7) == "7"
    assert format_count(float("nan")) == "n/a"


@pytest.mark.parametrize("x, text", [
    (0.81234, "0.812"), (0.0123, "0.012"), (1.23456, "1.235"), (52.3456, "52.35"), (123.456, "123.5"),
    (7917.722, "7,918"), (278531.2, "278,531"), (-0.5, "-0.500"), (0.000123, "0.000123"), (999.96, "1,000"),
    (float("nan"), "n/a"), (math.inf, "n/a"),
])
def test_values_take_their_decimals_from_their_size(x, text):
    assert format_value(x) == text


def test_mean_and_std_share_the_decimals_of_the_mean():
    # the CLI used to print "7917.722 ± 1793.850" beside "278,531 ± 30,469"
    assert format_mean_std(7917.722, 1793.85) == "7,918 ± 1,794"
    assert format_mean_std(278531.0, 30469.2) == "278,531 ± 30,469"
    assert format_mean_std(0.8123, 0.0141) == "0.812 ± 0.014"
    assert format_mean_std(52.3456, 3.1) == "52.35 ± 3.10"
    assert decimals_for(0.5) == 3 and decimals_for(5) == 3 and decimals_for(5000) == 0


def test_seconds_two_significant_digits():
    assert [format_seconds(s) for s in (0.0423, 0.42, 4.27, 42.1, 1234.6)] == ["0.042", "0.42", "4.3", "42", "1,235"]
    assert format_seconds(0.0001) == "<0.001" and format_seconds(2.5, unit=True) == "2.5 s"


def test_chart_labels_three_significant_digits():
    assert format_significant(48542.56, signed=True) == "+48,500"
    assert format_significant(-2.5) == "\u22122.5" and format_significant(1.234e-6) == "1.23e-06"
