"""RELIABILITY I5: names differing by whitespace or full-width forms are one name (trim, NFKC); the
optional traditional → simplified mapping (off by default) makes 張偉 and 张伟 one owner, is noted,
recorded with the dataset and reproducible from the mapping file and the CLI flag."""

from __future__ import annotations

import json

import pandas as pd

from dealscope import store
from dealscope.cli import main
from dealscope.ingest.persist import load_mapping_file, mapping_document, save_result
from dealscope.ingest.variants import VARIANT_TARGETS, to_simplified
from tests.unit.ingest_fixtures import csv_bytes, run

HEADERS = ["商机编号", "商机名称", "客户名称", "负责人", "所属区域", "行业", "商机阶段", "输单原因"]
ROWS = [
    HEADERS,
    ["1", "華東項目", "臺灣機械", "張偉", "華東", "製造業", "贏單", "價格過高"],
    ["2", "华东项目", "台湾机械", " 张伟 ", "华东", "制造业", "输单", "价格过高"],
    ["3", "Beta", "Acme", "Ｌｉ　Ｎａ", "North", "Retail", "输单", ""],
]


def test_whitespace_and_full_width_variants_are_one_name_by_default():
    opps = run({"v.csv": csv_bytes(ROWS)}).opportunities
    assert opps["owner"].tolist() == ["張偉", "张伟", "Li Na"]  # trimmed, NFKC, no script mapping


def test_traditional_names_map_to_simplified_when_asked():
    result = run({"v.csv": csv_bytes(ROWS)}, traditional_to_simplified=True)
    opps = result.opportunities
    assert opps["owner"].tolist() == ["张伟", "张伟", "Li Na"]
    assert opps["region"].tolist() == ["华东", "华东", "North"]
    assert opps["industry"].tolist() == ["制造业", "制造业", "Retail"]
    assert opps["account"].tolist() == ["台湾机械", "台湾机械", "Acme"]
    # Free text, names of deals and stages are never rewritten.
    assert opps["name"].tolist() == ["華東項目", "华东项目", "Beta"]
    assert opps["lost_reason"].tolist()[:2] == ["價格過高", "价格过高"]
    assert opps["stage"].tolist() == ["贏單", "输单", "输单"]
    notes = result.files[0].notes
    assert "负责人: 1 values mapped to simplified script (張偉 → 张伟)" in notes
    assert any(n.startswith("客户名称: 1 values mapped") for n in notes)


def test_only_distinct_values_are_converted_and_changes_are_listed(monkeypatch):
    calls = []
    import opencc

    class Counting(opencc.OpenCC):
        def convert(self, text):
            calls.append(text)
            return super().convert(text)

    monkeypatch.setattr(opencc, "OpenCC", Counting)
    values = pd.Series(["張偉"] * 1000 + ["张伟"] * 1000 + ["Ann"] * 1000 + [None])
    mapped, changed = to_simplified(values)
    assert sorted(calls) == ["张伟", "張偉"]  # one call per distinct value with Han characters
    assert changed == {"張偉": "张伟"}
    assert mapped.iloc[[0, 1500, 2500]].tolist() == ["张伟", "张伟", "Ann"] and pd.isna(
        mapped.iloc[-1]
    )


def test_the_setting_is_recorded_and_reproducible(tmp_path, empty_db_url):
    result = run({"v.csv": csv_bytes(ROWS)}, traditional_to_simplified=True)
    engine = store.get_engine(empty_db_url)
    dataset = store.read_dataset(engine, save_result(engine, "v", result))
    assert dataset.meta["settings"]["traditional_to_simplified"] is True
    path = tmp_path / "m.json"
    path.write_text(json.dumps(mapping_document(result), ensure_ascii=False), encoding="utf-8")
    assert load_mapping_file(path).traditional_to_simplified is True
    assert load_mapping_file(path).to_dict() | {"now": None} == result.settings.to_dict() | {
        "now": None, "mapping": {"v.csv": result.mapping["v.csv"]["columns"]},
        "layouts": {"v.csv": "chinese_crm"}, "stages": mapping_document(result)["settings"]["stages"],
    }  # fmt: skip


def test_cli_flag_and_mapping_file(tmp_path, capsys, empty_db_url):
    path = tmp_path / "v.csv"
    path.write_bytes(csv_bytes(ROWS, "gb18030"))
    saved = tmp_path / "m.json"
    args = ["ingest", str(path), "--db", empty_db_url, "--json"]
    assert main([*args, "--traditional-to-simplified", "--save-mapping", str(saved)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert any("values mapped to simplified script" in n for n in document["files"][0]["notes"])
    assert main([*args, "--dataset", "plain"]) == 0
    assert main([*args, "--dataset", "again", "--mapping", str(saved)]) == 0
    capsys.readouterr()
    engine = store.get_engine(empty_db_url)
    owners = {
        n: store.read_dataset(engine, n).opportunities["owner"].tolist()
        for n in ("v", "plain", "again")
    }
    assert owners == {"v": ["张伟", "张伟", "Li Na"], "plain": ["張偉", "张伟", "Li Na"],
                      "again": ["张伟", "张伟", "Li Na"]}  # fmt: skip


def test_variant_targets_are_the_name_and_category_columns():
    assert set(VARIANT_TARGETS) == {"account", "owner", "team", "region", "industry", "source",
                                    "customer_type"}  # fmt: skip
