"""The rules that keep the architecture honest: who imports what, and what the wheel ships."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GRADING_MODULES = sorted(
    f"atlas_quiz.grading.{p.stem}" for p in (ROOT / "atlas_quiz" / "grading").glob("*.py")
    if p.stem not in ("__init__", "__main__"))
# What the GPU machine lacks: the grading core must import without any of it.
NOT_ON_GPU_MACHINE = ["textual", "fsrs", "genanki", "sqlite_utils", "rich", "click", "platformdirs",
                      "pylatexenc", "anki", "pygments", "textual_serve", "textual_plotext"]


def python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)


def loaded_after(imports: list[str], watch: list[str]) -> set[str]:
    code = "; ".join(f"import {m}" for m in imports) + \
        f"; import sys; print(','.join(m for m in {watch!r} if m in sys.modules))"
    out = python(code)
    assert out.returncode == 0, out.stderr
    return set(filter(None, out.stdout.strip().split(",")))


def test_cards_model_uses_the_standard_library_only():
    assert loaded_after(["atlas_quiz.cards"], ["torch", "numpy", "sympy", "textual", "sqlite_utils"]) == set()


def test_core_never_imports_textual():
    core = ["atlas_quiz.cards", "atlas_quiz.grading", "atlas_quiz.store", *GRADING_MODULES]
    assert loaded_after(core, ["textual"]) == set()


def test_grading_core_imports_with_only_torch_sympy_numpy_and_the_stdlib():
    blocker = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        f"        if name.split('.')[0] in {NOT_ON_GPU_MACHINE!r}:\n"
        "            raise ImportError('not on the GPU machine: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    imports = "\n".join(f"import {m}" for m in ["atlas_quiz.cards", *GRADING_MODULES])
    out = python(blocker + imports + "\nfrom atlas_quiz.grading import Engine\nprint('ok')")
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_the_torch_free_grading_entry_points_stay_torch_free():
    assert loaded_after(["atlas_quiz.grading", "atlas_quiz.grading.result",
                         "atlas_quiz.grading.framing"], ["torch"]) == set()


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (it is in the test extras)")
    out = subprocess.run([exe], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]


def test_readme_commands_are_makefile_targets_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    commands = re.findall(r"^make (\w+)", readme, flags=re.M)
    assert {"review", "test"} <= set(commands)
    targets = set(re.findall(r"^([\w-]+):", makefile, flags=re.M))
    assert set(commands) <= targets
    assert re.search(r"^make test\b", (ROOT / ".ci" / "run").read_text(), flags=re.M)
    # torch is pinned and installed before the project, never left to the resolver
    assert re.search(r"^TORCH\s*\?=\s*torch==\d", makefile, flags=re.M)
    install = makefile.index("$(TORCH)"), makefile.index('-e ".[')
    assert install[0] < install[1]


@pytest.mark.slow
def test_the_wheel_ships_the_builtin_decks_and_kernels(tmp_path):
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(tmp_path / "dist"), str(ROOT)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("atlas_quiz-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    decks = sorted(p.name for p in (ROOT / "decks").glob("*.toml"))
    assert decks and all(f"atlas_quiz/_builtin/decks/{d}" in names for d in decks)
    assert any(n.startswith("atlas_quiz/_builtin/kernels/") for n in names)
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                              str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    code = (f"import sys; sys.path.insert(0, {str(target)!r})\n"
            "from atlas_quiz.paths import builtin_decks_dir\n"
            "from atlas_quiz.cards import load_decks\n"
            "d = builtin_decks_dir(); print(d); print(sum(len(x.cards) for x in load_decks([d])))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    where, count = out.stdout.split()
    assert where.startswith(str(target))
    from atlas_quiz.cards import load_decks
    from atlas_quiz.paths import builtin_decks_dir

    assert int(count) == sum(len(x.cards) for x in load_decks([builtin_decks_dir()]))
