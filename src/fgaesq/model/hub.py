"""Hugging Face Hub access that fails fast without a network (instead of minutes of retries)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from urllib.parse import urlparse


def hub_reachable(timeout: float = 3.0) -> bool:
    """True when huggingface_hub is not in offline mode and its endpoint accepts a TCP connection."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def cache_only_when_unreachable() -> Iterator[bool]:
    """Within the block, huggingface_hub uses only its local cache if the hub cannot be reached; yields online."""
    from huggingface_hub import constants

    online = hub_reachable()
    saved = constants.HF_HUB_OFFLINE
    if not online:
        constants.HF_HUB_OFFLINE = True
    try:
        yield online
    finally:
        constants.HF_HUB_OFFLINE = saved
