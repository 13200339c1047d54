"""bookcore's invariants and Hypothesis strategies, for apps to run in their own CI.

Test code only: importing it imports Hypothesis (``pip install 'bookcore[testing]'``), and
``import bookcore`` never does. See docs/testing.md.
"""

from bookcore.testing.invariants import BookcoreInvariants, InvariantRun, run_invariants
from bookcore.testing.strategies import amounts, charges, percents, promo_codes

__all__ = ["BookcoreInvariants", "InvariantRun", "amounts", "charges", "percents", "promo_codes",
           "run_invariants"]
