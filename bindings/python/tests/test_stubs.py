"""The checked-in stubs (`_native.pyi`) and the inline annotations match the module: mypy's
stubtest compares them with the runtime objects, and mypy type-checks the public API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mypy  # noqa: F401  (requirements-dev.txt pins it: a missing mypy fails here, not skips)

HERE = Path(__file__).resolve().parent
ALLOW = HERE / "stubtest-allowlist.txt"


def test_stubtest():
    cmd = [sys.executable, "-m", "mypy.stubtest", "polytrace", "--allowlist", str(ALLOW),
           "--ignore-unused-allowlist"]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_on_a_typed_user(tmp_path):
    user = tmp_path / "user.py"
    user.write_text(
        "import polytrace\n"
        "from opentelemetry import trace\n"
        "p: polytrace.TracerProvider = polytrace.TracerProvider(service_name='x')\n"
        "t = p.get_tracer('t')\n"
        "with t.start_as_current_span('s') as span:\n"
        "    span.set_attribute('k', 1)\n"
        "ok: bool = p.force_flush(1000)\n"
        "stats: dict[str, int] = polytrace.stats()\n"
        "p.shutdown()\n"
    )
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(user)],
                       capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, "MYPY_CACHE_DIR": str(tmp_path / ".mypy_cache")})
    assert r.returncode == 0, r.stdout + r.stderr
