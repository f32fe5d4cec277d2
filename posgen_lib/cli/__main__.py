"""``python -m posgen_lib.cli ...`` (what torchrun runs: ``torchrun ... -m posgen_lib.cli train ...``)."""
import sys

from . import main

sys.exit(main())
