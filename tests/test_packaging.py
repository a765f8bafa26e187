"""A regular install (``pip install .``, not ``-e``) has no ``models/`` beside the package: the
wheel must carry the model definitions where :mod:`planner.config` looks for them."""

from __future__ import annotations

import os
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


def test_the_command_runs_openblas_on_one_thread_unless_told_otherwise() -> None:
    """Under ``ulimit -v`` OpenBLAS's multi-thread start-up, reached when scipy is first imported
    mid-run, retried its failed buffers forever at 100% CPU, deaf to SIGTERM; one thread needs none.
    The entry point sets that before numpy loads; a value the user gave is kept."""
    probe = (
        "import os, sys\n"
        "sys.argv = ['planner', '--version']\n"
        "from planner.entry import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print(os.environ['OPENBLAS_NUM_THREADS'])\n"
    )
    for given, expected in ((None, "1"), ("4", "4")):
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
        if given is not None:
            env["OPENBLAS_NUM_THREADS"] = given
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.split()[-1] == expected, out.stdout


def test_the_readme_input_reference_is_the_schema_as_planner_schema_prints_it() -> None:
    """The README's input reference is pasted from ``planner schema``: a column, default or rule
    added to the schema (``existing_mw``: at most ``max_mw``) must reach it."""
    from planner.schema_doc import input_reference_markdown

    assert input_reference_markdown().strip() in (ROOT / "README.md").read_text(encoding="utf-8")
