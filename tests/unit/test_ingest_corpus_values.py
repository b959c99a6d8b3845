"""Issue 12: each silent value error of real exports gets a correct value, a flag or a rejection;
encodings never refuse a Western file; the CLI proposes and takes a mapping."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd

from dealscope import store
from dealscope.ingest.parse_amounts import parse_amounts
from dealscope.ingest.persist import reuse_saved, save_result
from dealscope.ingest.pipeline import SourceFile, ingest_files
from dealscope.ingest.settings import IngestSettings
from dealscope.ingest.stages import stage_kind, status_from_text

NOW = "2026-12-01T00:00:00"


def _ingest(name: str, data: bytes, settings: IngestSettings | None = None):
    return ingest_files([SourceFile(name, data)], settings or IngestSettings(now=NOW))


def _flags(result) -> pd.Series:
    return result.opportunities.set_index("opportunity_id")["flags"].fillna("")


def test_mixed_decimal_conventions_read_each_cell_by_its_shape_and_flag_it():
    result = parse_amounts(pd.Series(["1.234,56", "12.50", "7.25", "1,234"]))
    # '.' is the column's convention (2 cells say so, 1 says ','): 1.234,56 is 1234.56, not
    # 1.23456; 1,234 could be either and is read by the column's convention, flagged.
    assert result.values.tolist() == [1234.56, 12.5, 7.25, 1234.0]
    assert result.issues.tolist()[0] == "mixed-decimal"
    assert result.issues.tolist()[3] == "ambiguous-number"


def test_overflowing_amount_is_nulled_and_flagged_never_infinite():
    result = parse_amounts(pd.Series(["1e308万", "5万"]))
    assert pd.isna(result.values.iloc[0]) and result.issues.iloc[0] == "amount-out-of-range"
    assert result.values.iloc[1] == 50000.0


def test_ids_differing_only_by_invisible_characters_are_duplicates():
    data = "id,stage,amount\nA1,won,1\n\ufeffA1,lost,2\nA1\u200b,open,3\nB2,open,4\n".encode()
    result = _ingest("ids.csv", data)
    assert result.opportunities["opportunity_id"].tolist() == ["A1", "B2"]
    assert (result.rejects["reason"] == "duplicate-id").sum() == 2


def test_every_status_value_ends_in_one_bucket_or_is_flagged():
    rows = ["Id;Status;Bedrag", "1;Gewonnen;1", "2;Verloren;2", "3;Open;3", "4;Loss;4",
            "5;Gesloten/gewonnen;5", "6;Geannuleerd;6", "7;Onbekend;7", "8;Win;8"]  # fmt: skip
    result = _ingest("nl.csv", "\n".join(rows).encode())
    status = result.opportunities.set_index("opportunity_id")["status"]
    assert status.to_dict() == {"1": "won", "2": "lost", "3": "open", "4": "lost", "5": "won",
                                "6": "lost", "7": "open", "8": "won"}  # fmt: skip
    assert "unknown-status" in _flags(result)["7"]
    counts = status.value_counts()
    assert counts.sum() == len(status) == 8


def test_outcome_vocabulary_in_both_languages():
    words = pd.Series(["Won", "Win", "Closed Won", "Loss", "Lost", "Lose", "Closed Lost", "赢单",
                       "成交", "输单", "丢单", "流失", "Gagné", "Perdido", "Выиграна", "跟进中"])  # fmt: skip
    assert status_from_text(words).tolist() == ["won"] * 3 + ["lost"] * 4 + ["won"] * 2 + [
        "lost"] * 3 + ["won", "lost", "won", "open"]  # fmt: skip
    assert stage_kind("C2:LOSE") == "lost" and stage_kind("Closed won (Renewals)") == "won"
    assert stage_kind("签约中") == "open"


def test_cp1252_file_with_accents_loads_with_its_names():
    data = "Deal,Owner,Stage\n1,José Müller,Closed Won\n2,Françoise Hébert,Qualification\n"
    result = _ingest("w.csv", data.encode("cp1252"))
    assert result.opportunities["owner"].tolist() == ["José Müller", "Françoise Hébert"]


def test_gbk_file_with_one_utf8_line_reads_it_and_flags_it():
    data = ("商机编号,商机阶段,负责人\n1,赢单,张伟\n".encode("gbk") + "2,输单,李娜\n".encode()
            + "3,谈判,王强\n".encode("gbk"))  # fmt: skip
    result = _ingest("g.csv", data)
    assert result.opportunities["owner"].tolist() == ["张伟", "李娜", "王强"]
    assert "mixed-encoding" in _flags(result)["2"]
    assert any("UTF-8 inside" in n for n in result.files[0].notes)


def test_cr_only_line_ends_are_lines_not_an_empty_file():
    result = _ingest("mac.csv", b"id,stage\r1,won\r2,lost\r")
    assert len(result.opportunities) == 2


def test_utf16_without_bom_reads_headers_right():
    data = "id,stage,owner\n1,won,Zoë\n".encode("utf-16-le")
    result = _ingest("u.csv", data)
    assert result.opportunities["owner"].tolist() == ["Zoë"]


def test_reupload_under_the_same_name_reuses_the_saved_stage_order(tmp_path):
    engine = store.get_engine(f"sqlite:///{tmp_path / 'r.db'}")
    first = _ingest("a.csv", b"id,stage\n1,Beta\n2,Alpha\n3,won\n")
    table = first.stages.copy()
    table.loc[table["stage"] == "Alpha", "position"] = -1  # the user moved Alpha first
    first.stages = table.sort_values("position").assign(position=range(len(table)))
    save_result(engine, "pipe", first)
    settings = IngestSettings(now=NOW)
    notes = reuse_saved(engine, "pipe", settings)
    again = _ingest("b.csv", b"id,stage\n9,Beta\n8,Alpha\n", settings)
    assert again.stages["stage"].tolist()[:2] == ["Alpha", "Beta"] and notes


def test_cli_prints_the_mapping_and_takes_map_and_map_status(tmp_path):
    path = tmp_path / "fr.csv"
    path.write_text("Affaire,Vendeur,Issue,Montant\nA,Sam,Gagné,100\nB,Sam,Abandon,50\n",
                    encoding="utf-8")  # fmt: skip
    db = f"sqlite:///{tmp_path / 'c.db'}"
    base = [sys.executable, "-m", "dealscope", "ingest", str(path), "--db", db]
    bare = tmp_path / "bare.csv"
    bare.write_text("Affaire,Vendeur,Note\nA,Sam,ok\n", encoding="utf-8")
    refused = subprocess.run([*base[:4], str(bare), *base[5:]], capture_output=True, text=True,
                             check=False)  # fmt: skip
    assert refused.returncode != 0 and "stage or outcome" in refused.stderr + refused.stdout
    done = subprocess.run(
        [*base, "--map", "Issue=status", "--map", "Affaire=name", "--map-status", "Abandon=lost",
         "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["mapping"]["fr.csv"]["columns"]["Issue"] == "status"
    engine = store.get_engine(db)
    opps = store.read_dataset(engine, "fr").opportunities
    assert sorted(opps["status"]) == ["lost", "won"]
    shown = subprocess.run([*base, "--map", "Issue=status", "--dry-run"], capture_output=True,
                           text=True, check=False)  # fmt: skip
    assert "Vendeur" in shown.stdout and "owner" in shown.stdout


def test_formula_without_value_is_flagged_when_the_sheet_part_has_another_name():
    import io
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "stage", "amount"])
    sheet.append(["1", "won", "=SUM(1,2)"])
    sheet.append(["2", "lost", 5])
    buffer = io.BytesIO()
    book.save(buffer)
    renamed = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(renamed, "w") as target:
        for item in source.infolist():
            payload = source.read(item.filename)
            name = item.filename.replace("worksheets/sheet1.xml", "worksheets/deals.xml")
            if item.filename in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
                payload = payload.replace(b"worksheets/sheet1.xml", b"worksheets/deals.xml")
            target.writestr(name, payload)
    result = _ingest("f.xlsx", renamed.getvalue())
    assert "formula-not-evaluated" in _flags(result)["1"]


def test_stage_order_sources_in_priority_order():
    from dealscope.ingest.events import empty_events
    from dealscope.ingest.stages import infer_stages

    current = pd.Series(["Proposal", "Walkthrough", "Discovery", "Closed Won"], dtype="string")
    # No history, no probability: the order of the per-stage columns decides.
    table, _ = infer_stages(current, empty_events(), column_order=["Discovery", "Walkthrough",
                                                                   "Proposal", "Closed Won"])  # fmt: skip
    assert table["stage"].tolist() == ["Discovery", "Walkthrough", "Proposal", "Closed Won"]
    # A probability per stage comes before the columns' order.
    probability = pd.Series([0.2, 0.6, 0.4, 1.0])
    table, _ = infer_stages(current, empty_events(), probability=probability,
                            column_order=["Discovery", "Walkthrough", "Proposal", "Closed Won"])  # fmt: skip
    assert table["stage"].tolist() == ["Proposal", "Discovery", "Walkthrough", "Closed Won"]
    # Names that write their own number (Dynamics 365 pipeline phases).
    phases = pd.Series(["3-Propose", "1-Qualify", "2-Develop"], dtype="string")
    table, _ = infer_stages(phases, empty_events())
    assert table["stage"].tolist() == ["1-Qualify", "2-Develop", "3-Propose"]


def test_french_pipedrive_export_without_ids_tried_as_a_newcomer():
    """A file written outside the corpus (French Pipedrive UI, `;`, decimal comma, day-first dates,
    no id column, a blank amount): counts and sums checked by hand."""
    text = (
        "Titre de l'affaire;Propriétaire;Valeur;Devise;Étape;Statut;Date de création\n"
        "Contrat Alpha;Marie Dupont;1 234,50;EUR;Proposition;Gagné;03/02/2025\n"
        "Licence Beta;Jean Martin;12 000,00;EUR;Négociation;Perdu;10/02/2025\n"
        "Support Gamma;Marie Dupont;850,00;EUR;Qualification;Ouvert;01/03/2025\n"
        "Projet Delta;Jean Martin;45 500,00;EUR;Proposition;Ouvert;12/03/2025\n"
        "Extension Epsilon;Luc Bernard;3 300,00;EUR;Négociation;Gagné;20/03/2025\n"
        "Renouvellement Zeta;Luc Bernard;;EUR;Qualification;Perdu;25/03/2025\n"
    )
    result = _ingest("pipedrive_fr.csv", text.encode("utf-8-sig"))
    opps = result.opportunities.set_index("opportunity_id")
    assert opps.index.tolist()[:2] == ["Contrat Alpha", "Licence Beta"]  # unique titles are ids
    assert opps["status"].value_counts().to_dict() == {"won": 2, "lost": 2, "open": 2}
    assert opps.loc[opps["status"] == "won", "amount"].sum() == 1234.50 + 3300.00
    assert opps.loc[opps["status"] == "open", "amount"].sum() == 850.00 + 45500.00
    assert pd.isna(opps.at["Renouvellement Zeta", "amount"])  # missing, not 0
    assert opps.at["Contrat Alpha", "created_at"] == pd.Timestamp("2025-02-03")  # day first


def test_control_characters_are_kept_and_flagged_once():
    """Issue 16 / RELIABILITY I8: control characters are stored as read and each cell holding one
    is flagged once (exports escape them: tests/unit/test_export_control.py)."""
    text = (
        "Opportunity ID,Opportunity Name,Owner,Stage,Amount\n"
        "1,Alpha\x01 deal,Ann\x1b[31m,Closed Won,100\n"
        "2,Beta\tdeal,Bob,Closed Lost,50\n"
        "3,Gamma\x7f,Bob,Closed Won,25\n"
    )
    result = _ingest("ctrl.csv", text.encode())
    opps = result.opportunities.set_index("opportunity_id")
    assert opps.at["1", "name"] == "Alpha\x01 deal" and opps.at["1", "owner"] == "Ann\x1b[31m"
    flags = _flags(result)
    marked = flags.str.contains("control-character", regex=False).to_dict()
    assert marked == {"1": True, "2": False, "3": True}  # a tab is no control character here
