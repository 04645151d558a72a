"""fgaesq: fine-grained image aesthetic assessment (FGAesQ / DiffToken).

Scores are in [1, 10], higher is better; rankings are only meaningful within a series.
"""

__version__ = "0.1.0"
