"""The `--mllm-cmd` hook: an external command judges one series (JSON on stdin, JSON verdict on stdout).

Verdict JSON: {"verdict": "keep" | "drop" | "review", "reason": "optional text"}. A command that fails,
times out or prints anything else yields verdict "review" with the reason, so no series is lost silently.
"""

from __future__ import annotations

import json
import shlex
import subprocess

VERDICTS = ("keep", "drop", "review")


def run_mllm(cmd: str, payload: dict, timeout: float = 120.0) -> dict:
    """Run `cmd` (split like a shell, no shell) with `payload` as JSON on stdin; return its verdict dict."""
    try:
        proc = subprocess.run(
            shlex.split(cmd),
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, ValueError) as exc:
        return {"verdict": "review", "reason": f"mllm command could not start: {exc}"}
    except subprocess.TimeoutExpired:
        return {"verdict": "review", "reason": f"mllm command timed out after {timeout:g} s"}
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or [""]
        return {"verdict": "review", "reason": f"mllm command exited {proc.returncode}: {tail[0][:200]}"}
    try:
        out = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        return {"verdict": "review", "reason": f"mllm command printed no JSON verdict ({exc.msg})"}
    if not isinstance(out, dict) or out.get("verdict") not in VERDICTS:
        return {"verdict": "review", "reason": f"mllm verdict must be one of {'|'.join(VERDICTS)}, got {out!r:.200}"}
    reason = out.get("reason")
    return {"verdict": out["verdict"], "reason": reason if isinstance(reason, str) else ""}
