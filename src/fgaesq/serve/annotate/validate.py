"""Validation of what users type or post: annotator names, choices, lease tokens."""

from __future__ import annotations

import re

ANNOTATOR_RE = re.compile(r"[^\W_][\w .@'-]{0,63}")
TOKEN_RE = re.compile(r"[0-9a-f]{32}")
#: Posted choice → stored choice (a = image_a = left preferred).
CHOICES = {"left": "a", "right": "b", "tie": "tie", "a": "a", "b": "b"}


class InvalidInput(ValueError):
    """A posted value failed validation; the message says what is allowed."""


def clean_annotator(name: str | None) -> str:
    """The annotator name stripped of outer spaces; 1–64 letters, digits, spaces and . @ ' - _."""
    text = (name or "").strip()
    if not ANNOTATOR_RE.fullmatch(text):
        raise InvalidInput(
            "annotator name must be 1–64 characters: letters, digits, spaces and . @ ' - _, starting with a letter or digit"
        )
    return text


def clean_choice(choice: str | None) -> str:
    """The stored choice (a|b|tie) for a posted left|right|tie (or a|b)."""
    key = (choice or "").strip().lower()
    if key not in CHOICES:
        raise InvalidInput("choice must be left, right or tie")
    return CHOICES[key]


def clean_token(token: str | None) -> str | None:
    """A lease token (32 hex digits), None when absent or malformed."""
    text = (token or "").strip().lower()
    return text if TOKEN_RE.fullmatch(text) else None
