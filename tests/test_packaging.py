"""A regular install (``pip install .``, not ``-e``) has no ``models/`` beside the package: the
wheel must carry the model definitions where :mod:`planner.config` looks for them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from planner.config import INSTALLED_MODELS_DIR, SOURCE_MODELS_DIR

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_every_model_definition(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy: building in the checkout would leave build/ at the top
    for name in ("planner", "models"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source), "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("planner-*.whl")
    shipped = {Path(n).name for n in zipfile.ZipFile(wheel).namelist() if "/data/share/planner/models/" in n}
    assert shipped == {p.name for p in SOURCE_MODELS_DIR.glob("*.toml")}
    assert INSTALLED_MODELS_DIR.parts[-3:] == ("share", "planner", "models")
