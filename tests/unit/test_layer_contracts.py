"""The layer contracts in .importlinter hold on the real tree and catch a deliberately wrong import.

Each wrong import is written into a temporary copy of the two packages (never into the source
tree), and `lint-imports` runs there as a subprocess, so the test shows the tool, the config and
the contract names working together.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def contract_names() -> list[str]:
    config = configparser.ConfigParser()
    config.read(CONFIG, encoding="utf-8")
    return [config[s]["name"] for s in config.sections() if s.startswith("importlinter:contract:")]


def run_lint_imports(tree: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / ".importlinter"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def copy_tree(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("dealscope", "ui"):
        shutil.copytree(ROOT / package, target / package, ignore=ignore)
    shutil.copy(CONFIG, target / ".importlinter")
    return target


def test_the_real_tree_keeps_every_contract():
    result = run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# (module to edit, wrong import appended to it, the contract name that must report BROKEN)
WRONG_IMPORTS = [
    ("dealscope/metrics/stats.py", "from dealscope.store import get_engine", "metrics compute"),
    ("dealscope/metrics/stats.py", "import dealscope.i18n", "metrics compute"),
    ("dealscope/filters.py", "import ui.state", "dealscope is pure"),
    ("dealscope/formatting.py", "import streamlit", "dealscope is pure"),
    ("dealscope/risk/features.py", "from dealscope.i18n import t", "risk scores and explains"),
    ("dealscope/report/week.py", "from dealscope.risk import registry", "report is built from"),
    ("dealscope/report/bottleneck.py", "from dealscope.i18n import t", "report figures"),
    ("dealscope/model.py", "import dealscope.metrics.kpis", "dealscope layers"),
    # metrics.funnel imports metrics.stats; the reverse closes a cycle between siblings.
    ("dealscope/metrics/stats.py", "import dealscope.metrics.funnel", "no import cycles"),
]


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    WRONG_IMPORTS,
    ids=[f"{m}:{i}" for m, i, _ in WRONG_IMPORTS],
)
def test_a_wrong_import_breaks_its_contract(tmp_path, module, wrong_import, contract):
    tree = copy_tree(tmp_path)
    path = tree / module
    path.write_text(
        path.read_text(encoding="utf-8") + f"\n{wrong_import}  # deliberately wrong\n",
        encoding="utf-8",
    )
    result = run_lint_imports(tree)
    assert result.returncode != 0, result.stdout
    # The report wraps long lines; compare with the whitespace collapsed.
    report = " ".join(result.stdout.split())
    [name] = [n for n in contract_names() if n.startswith(contract)]
    assert f"{name} BROKEN" in report, result.stdout


def cli_modules_importing_the_cli_package(root: Path) -> list[str]:
    """Command modules that import `dealscope.cli` itself (its __init__ imports every command
    module, so each such import closes a cycle). import-linter's contracts cannot name a package
    apart from its children, so this one is checked on grimp's graph directly."""
    # In a subprocess: this process has already imported the real `dealscope`.
    script = (
        "import grimp, json\n"
        "graph = grimp.build_graph('dealscope', cache_dir=None)\n"
        "print(json.dumps(sorted(m for m in graph.find_children('dealscope.cli')\n"
        "    if graph.direct_import_exists(importer=m, imported='dealscope.cli'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env=os.environ | {"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(result.stdout)


def test_the_cycle_check_sees_a_command_importing_the_cli_package(tmp_path):
    tree = copy_tree(tmp_path)
    (tree / "dealscope" / "cli" / "__init__.py").write_text(
        "from dealscope.cli import loop_cmd\n", encoding="utf-8"
    )
    (tree / "dealscope" / "cli" / "loop_cmd.py").write_text(
        "def register():\n    from dealscope.cli import helper  # deliberately wrong\n",
        encoding="utf-8",
    )
    assert "dealscope.cli.loop_cmd" in cli_modules_importing_the_cli_package(tree)


def test_no_command_module_imports_the_cli_package():
    assert cli_modules_importing_the_cli_package(ROOT) == []
