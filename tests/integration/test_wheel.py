"""The wheel carries the built UI and the examples (the templates and the sample projects), and an installed wheel
finds its UI and its samples."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from support import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)],
                   cwd=REPO, check=True, capture_output=True, timeout=300)
    (built,) = out.glob("mediastudio-*.whl")
    return built


def test_the_wheel_contains_the_ui_the_examples_and_offline_docs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mediastudio/web_dist/index.html" in names
    assert "mediastudio/web_dist/sw.js" in names
    assert "mediastudio/web_dist/manifest.webmanifest" in names
    assert any(n.startswith("mediastudio/web_dist/_app/immutable/") for n in names)
    assert any(n.startswith("mediastudio/examples/") for n in names)
    assert "mediastudio/examples/templates/storyboard.json" in names
    assert "mediastudio/examples/samples/samples.json" in names
    for sample in ("storyboard", "text-to-image", "image-sequence"):
        assert f"mediastudio/examples/samples/{sample}.msproj" in names
        assert f"mediastudio/examples/samples/{sample}.webp" in names
    assert "mediastudio/api_docs/swagger_ui/swagger-ui-bundle.js" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "mediastudio = mediastudio.cli.main:run" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_an_installed_wheel_serves_its_own_ui(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(wheel)], check=True, timeout=300)
    result = subprocess.run(
        [sys.executable, "-c", "from mediastudio.ui import find_web_dist; print(find_web_dist(None))"],
        cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert Path(result.stdout.strip()) == site / "mediastudio" / "web_dist"


def test_an_installed_wheel_offers_its_samples(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
                    str(wheel)], check=True, timeout=300)
    result = subprocess.run(
        [sys.executable, "-c", "from mediastudio.samples.catalog import all_samples\n"
         "for s in all_samples(): print(s.id, s.bundle.is_file(), s.cover.is_file(), s.bundle)"],
        cwd=tmp_path, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=60, check=True,
    )
    lines = [line.split() for line in result.stdout.splitlines()]
    assert [line[0] for line in lines] == ["storyboard", "text-to-image", "image-sequence"]
    for _, bundle_found, cover_found, path in lines:
        assert bundle_found == cover_found == "True"
        assert Path(path).is_relative_to(site / "mediastudio" / "examples" / "samples")
