"""House conventions as tests: the layering, page tests, safe rendering and the README's promise."""

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "dealscope"
PAGES_DIR = ROOT / "pages"
STREAMLIT_DIRS = (PAGES_DIR, ROOT / "ui")
MAX_VIEW_LINES = 80


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def registered_views() -> list[str]:
    from ui.nav import PAGES

    return [spec.script for spec in PAGES]


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_the_package_never_imports_streamlit_or_the_ui(path):
    assert imported_modules(path).isdisjoint({"streamlit", "ui", "pages", "app"})


def test_every_registered_view_exists_and_has_an_apptest():
    views = registered_views()
    assert views, "no pages registered"
    for view in views:
        assert (ROOT / view).is_file(), view
        name = Path(view).stem
        test_file = ROOT / "tests" / "app" / f"test_{name}.py"
        assert test_file.is_file(), f"{view} has no AppTest ({test_file.name})"
        assert f'"{view}"' in test_file.read_text(encoding="utf-8"), (
            f"{test_file.name} never opens {view}"
        )


def test_every_view_file_is_registered():
    registered = set(registered_views())
    on_disk = {f"pages/{p.name}" for p in PAGES_DIR.glob("*.py")}
    assert on_disk == registered


@pytest.mark.parametrize("view", sorted(PAGES_DIR.glob("*.py")), ids=lambda p: p.name)
def test_views_are_thin(view):
    code = [
        line
        for line in view.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert len(code) <= MAX_VIEW_LINES, (
        f"{view.name}: {len(code)} lines; move logic to ui/ or dealscope/"
    )
    assert imported_modules(view).isdisjoint({"sqlalchemy", "sklearn"})
    assert not re.search(
        r"\bpd\.read_|\.iterrows\(|apply\([^)]*axis\s*=\s*1", view.read_text(encoding="utf-8")
    )


def test_no_raw_html_rendering_of_data():
    offenders = []
    for folder in (*STREAMLIT_DIRS, ROOT):
        for path in folder.glob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "unsafe_allow_html=True" in text or re.search(r"\bst\.html\(", text):
                offenders.append(path.name)
    assert offenders == []


def test_widget_labels_are_translated_in_the_run():
    """A format_func that calls tr() when Streamlit formats the options may run outside the script
    run (AppTest does), in the default language: labels are resolved during the run instead."""
    offenders = []
    for folder in STREAMLIT_DIRS:
        for path in folder.glob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.keyword) and node.arg == "format_func"):
                    continue
                if isinstance(node.value, ast.Name | ast.Lambda) and any(
                    isinstance(call, ast.Call) and getattr(call.func, "id", None) == "tr"
                    for call in ast.walk(node.value)
                ):
                    offenders.append(f"{path.name}:{node.value.lineno}")
    assert offenders == []


def test_no_row_loops_in_the_package():
    offenders = [
        str(p.relative_to(ROOT))
        for p in PACKAGE.rglob("*.py")
        if re.search(
            r"\.iterrows\(|\.itertuples\(\)|apply\([^)]*axis\s*=\s*1", p.read_text(encoding="utf-8")
        )
    ]
    assert offenders == []


def test_readme_quick_start_is_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^\s*(make \w+)\s*$", quick_start, flags=re.M)
    assert commands == ["make run", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^run:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")


def test_readme_mentions_only_files_that_exist():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    generated = {"data/dealscope.db"}  # written by `make run`, ignored by git
    for path in re.findall(r"`((?:[\w.-]+/)+[\w.-]*)`", readme):
        target = ROOT / path
        exists = target.parent.is_dir() if path in generated else target.exists()
        assert exists, f"README mentions {path}, which does not exist"


def test_requirements_are_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line), (
                    f"{name}: {line} is not pinned"
                )


@pytest.mark.parametrize("view", sorted(PAGES_DIR.glob("*.py")), ids=lambda p: p.name)
def test_every_page_calls_the_frame_guard_first(view):
    """The legacy pages/ shim may run a page without app.py; require_frame() must run first."""
    tree = ast.parse(view.read_text(encoding="utf-8"))
    statements = [
        node
        for node in tree.body
        if not isinstance(node, ast.Import | ast.ImportFrom)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    first = statements[0]
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Call), view.name
    assert getattr(first.value.func, "id", "") == "require_frame", (
        f"{view.name}: the first statement must be require_frame()"
    )


def test_no_views_folder_is_left():
    assert not (ROOT / "views").exists()


def test_the_test_configuration_itself_limits_threads():
    """tests/conftest.py sets the limits before scikit-learn loads, so a bare `pytest` is safe too."""
    import sklearn  # noqa: F401  (loads the OpenMP runtime the limit must reach)
    from threadpoolctl import threadpool_info

    assert os.environ["OMP_NUM_THREADS"] == "1"
    pools = threadpool_info()
    assert pools, "no native thread pool found to check"
    assert {pool["num_threads"] for pool in pools} == {1}, pools


def test_colours_come_from_the_one_palette():
    """A hex colour literal anywhere but dealscope/charts/palette.py is a second palette."""
    palette = PACKAGE / "charts" / "palette.py"
    # The report's embedded stylesheet sets neutral page greys, not chart colours.
    stylesheets = {PACKAGE / "report" / "render_html.py"}
    offenders = [
        f"{path.relative_to(ROOT)}: {match}"
        for folder in (PACKAGE, ROOT / "ui", PAGES_DIR)
        for path in folder.rglob("*.py")
        if path != palette and path not in stylesheets
        for match in re.findall(r"#[0-9a-fA-F]{6}\b", path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
