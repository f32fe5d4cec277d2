"""The real-browser test (``make test-browser``): budgets are tiny, as in ``make test``."""
import os

os.environ["POSGEN_FAST"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
