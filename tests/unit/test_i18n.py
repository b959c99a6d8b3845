"""Both catalogs are complete and consistent; t() formats and fails loudly on unknown keys."""

import re
import string

import pytest

from dealscope.i18n import LANGUAGES, catalog, normalise_language, t


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys():
    zh, en = catalog("zh-CN"), catalog("en")
    assert set(zh) - set(en) == set(), "keys missing in en"
    assert set(en) - set(zh) == set(), "keys missing in zh-CN"


def test_placeholders_match_across_languages():
    zh, en = catalog("zh-CN"), catalog("en")
    mismatched = [k for k in zh if placeholders(zh[k]) != placeholders(en[k])]
    assert mismatched == []


def test_no_empty_strings_and_zh_catalog_is_chinese():
    for lang in LANGUAGES:
        assert all(v.strip() for v in catalog(lang).values())
    zh = catalog("zh-CN")
    chinese = sum(bool(re.search(r"[\u4e00-\u9fff]", v)) for v in zh.values())
    assert chinese / len(zh) > 0.8  # a zh text that is not Chinese is usually an untranslated copy


def test_t_formats_and_rejects_unknown_keys():
    assert t("overview.undated", "en", count=3).startswith("3 opportunities")
    assert "3" in t("overview.undated", "zh-CN", count=3)
    with pytest.raises(KeyError):
        t("no.such.key", "en")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en", "en"),
        ("EN-us", "en"),
        ("zh", "zh-CN"),
        ("zh-CN", "zh-CN"),
        ("fr", "zh-CN"),
        (None, "zh-CN"),
    ],
)
def test_language_parameter_is_normalised(value, expected):
    assert normalise_language(value) == expected


def test_every_literal_key_the_code_asks_for_exists():
    """t("…") / tr("…") with a literal key that no catalog has fails only when that line runs
    (a KeyError on a page): find them all by reading the code."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    keys = catalog("en").keys() & catalog("zh-CN").keys()
    missing = []
    for folder in ("dealscope", "ui", "pages"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) in ("t", "tr")
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and node.args[0].value not in keys
                ):
                    missing.append(f"{path.relative_to(root)}:{node.lineno} {node.args[0].value}")
    assert missing == []
