"""Fitting text into PDF table cells without breaking a word (billing/exports/pdf_fit.py).

A made-up font: every character is 0.2 mm wide per point of size, so the widths are easy to
compute by hand.
"""
from billing.exports.pdf_fit import fit_text, split_word

LONG_ID = "PO-2026-RENEWAL-ACME-LOGISTICS-INTERNATIONAL-000123"
NO_SEPARATOR_ID = "Z" * 70


def test_fit_text_shrinks_then_splits_at_separators():
    width = lambda text, size: len(text) * size * 0.2   # noqa: E731 - 0.2 mm per character and point
    assert fit_text("a short text", 30, 8, 6, width) == ("a short text", 8)
    text, size = fit_text("reconfigured autodiscover", 2.0 * 8 * 0.2 * 10, 8, 6, width)
    assert (text, size) == ("reconfigured autodiscover", 8)
    text, size = fit_text("x " + "A" * 12, 12 * 7 * 0.2, 8, 6, width)       # 12 chars fit at 7 pt
    assert (text, size) == ("x " + "A" * 12, 7)
    text, size = fit_text(LONG_ID, 20 * 6 * 0.2, 8, 6, width)                 # 20 chars fit at 6 pt
    assert size == 6 and text.replace("\n", "") == LONG_ID
    assert all(line.endswith("-") for line in text.split("\n")[:-1]) and all(
        len(line) <= 20 for line in text.split("\n"))
    text, _ = fit_text("camelCaseIdentifierWithoutSeparators", 10 * 6 * 0.2, 8, 6, width)
    assert text.split("\n")[0] == "camelCase"
    text, _ = fit_text(NO_SEPARATOR_ID, 30 * 6 * 0.2, 8, 6, width)
    assert text.split("\n") == ["Z" * 30, "Z" * 30, "Z" * 10]                # no better place: cut where it ends


def test_split_word_prefers_a_separator_in_the_last_two_thirds():
    fits = lambda piece: len(piece) <= 10   # noqa: E731
    assert split_word("a-bcdefghijklmnop", fits) == ["a-bcdefghi", "jklmnop"]      # "-" too early: cut at 10
    assert split_word("abcdef/ghijklmnop", fits) == ["abcdef/", "ghijklmnop"]
    assert split_word("short", fits) == ["short"]
