"""Suggestions: better agreement terms per (site, SKU), with their expected effect.

`resample` draws a year of a key's own demand and lead times, `replay` steps
it through the shipped decision step (`cloud.replenishment.decide`) under
today's terms and candidate terms, `suggest` picks the terms worth offering
and flags dead stock, excess cover and chronic stockouts. All three are pure.
"""

from cloud.suggest.suggest import (
    Effect,
    Flag,
    KeyInputs,
    Suggestion,
    SuggestOptions,
    Terms,
    suggest,
)

__all__ = ["Effect", "Flag", "KeyInputs", "SuggestOptions", "Suggestion", "Terms", "suggest"]
