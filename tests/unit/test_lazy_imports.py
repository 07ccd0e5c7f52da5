"""`mediastudio --help` and the API must not import torch or diffusers (5–9 s, GBs of memory)."""

import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY = ("torch", "diffusers", "transformers", "accelerate")


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_cli_help_and_version_do_not_import_torch() -> None:
    out = _run(f"""
        import sys
        from mediastudio.cli.main import app
        for argv in (["--help"], ["--version"], ["serve", "--help"], ["doctor", "--help"]):
            try:
                app(argv)
            except SystemExit:
                pass
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
    """)
    assert out.splitlines()[-1] == "[]"


def test_the_api_does_not_import_torch(tmp_path: Path) -> None:
    out = _run(f"""
        import sys
        from litestar.testing import TestClient
        from mediastudio.app import create_app
        from mediastudio.settings import Settings
        # The GPU probe runs in a subprocess; the test client's Host is allowed explicitly.
        app = create_app(Settings(data_dir={str(tmp_path)!r}, allowed_hosts=["testserver.local"]))
        with TestClient(app) as client:
            assert client.get("/api/v1/health").status_code == 200
            assert client.get("/api/openapi.json").status_code == 200
            assert client.get("/api/docs").status_code == 200
        print(sorted(m for m in {HEAVY!r} if m in sys.modules))
    """)
    assert out.splitlines()[-1] == "[]"
