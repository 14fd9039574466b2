"""``isthmus flows validate|preview|suggest|diff`` on the shipped flows and samples."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from isthmus.cli.app import app

REPO = Path(__file__).resolve().parents[3]
FLOWS = REPO / "flows"
SAMPLES = {
    "d365-salesorder-to-s4": "d365-salesorder-created",
    "s4-salesorder-confirmation-to-d365": "s4-salesorder-changed",
    "d365-account-to-s4-businesspartner": "d365-account-created",
    "s4-businesspartner-to-d365-account": "s4-businesspartner-changed",
    "s4-product-to-d365": "s4-product-changed",
    "s4-materialstock-to-d365-inventory": "s4-materialstock-changed",
    "d365-shipment-to-s4-delivery": "d365-shipment-confirmed",
    "s4-billingdocument-to-d365-invoice": "s4-billingdocument-created",
    "d365-invoice-to-s4-journalentry": "d365-invoice-paid",
}
XREFS = [
    "--xref",
    "account:00000000-0000-0000-0000-000000000020=17100001",
    "--xref",
    "salesorder:6d81597f-0ab1-4f3e-9d1c-2b7a5e4c8f10=4711",
]
runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["flows", *args])
    return result.exit_code, result.output


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    shutil.copytree(FLOWS, folder)
    return folder


def test_validate_accepts_every_shipped_flow() -> None:
    code, output = _run("validate", "--dir", str(FLOWS))
    assert code == 0, output
    assert "9 valid, 0 invalid" in output


def test_validate_names_file_line_and_field_of_a_broken_flow(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "d365-salesorder-to-s4.yaml"
    path.write_text(path.read_text().replace("SalesOrderType:", "SalesOrderType: 'if(,'\n  X:", 1))
    code, output = _run("validate", "--dir", str(folder))
    assert code == 1
    assert "8 valid, 1 invalid" in output
    assert "d365-salesorder-to-s4.yaml" in output
    assert "line" in output


@pytest.mark.parametrize("flow_id", sorted(SAMPLES))
def test_preview_maps_every_shipped_sample(flow_id: str) -> None:
    sample = FLOWS / "samples" / f"{SAMPLES[flow_id]}.json"
    code, output = _run("preview", flow_id, str(sample), "--dir", str(FLOWS), *XREFS)
    assert code == 0, output
    assert f"{flow_id}@" in output
    assert '"header"' in output


def test_preview_lists_the_violations_when_the_xref_is_unknown() -> None:
    sample = FLOWS / "samples" / "d365-salesorder-created.json"
    code, output = _run("preview", "d365-salesorder-to-s4", str(sample), "--dir", str(FLOWS))
    assert code == 1
    assert "violation(s)" in output
    assert "SoldToParty" in output
    assert "lookup" in output


def test_preview_takes_a_flow_file_as_well() -> None:
    sample = FLOWS / "samples" / "s4-product-changed.json"
    code, output = _run("preview", str(FLOWS / "s4-product-to-d365.yaml"), str(sample))
    assert code == 0, output


def test_suggest_ranks_source_fields_for_unmapped_targets() -> None:
    sample = FLOWS / "samples" / "d365-salesorder-created.json"
    code, output = _run(
        "suggest",
        "d365-salesorder-to-s4",
        "--dir",
        str(FLOWS),
        "--schemas",
        str(REPO / "schemas"),
        "--topics",
        str(REPO / "deploy" / "topics.yaml"),
        "--sample",
        str(sample),
    )
    assert code == 0, output
    assert "SalesOrder" in output
    assert "score" in output


def test_diff_of_two_files_shows_version_and_changed_expression(tmp_path: Path) -> None:
    old = FLOWS / "d365-salesorder-to-s4.yaml"
    new = tmp_path / "new.yaml"
    text = old.read_text().replace("version: 1\n", "version: 2\n", 1)
    new.write_text(
        text.replace('DistributionChannel: {const: "10"}', 'DistributionChannel: {const: "20"}')
    )
    code, output = _run("diff", str(old), str(new), "--dir", str(FLOWS))
    assert code == 0, output
    assert "~ version: 1 → 2" in output


def test_diff_against_a_git_revision(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    folder = repo / "flows"
    shutil.copytree(FLOWS, folder)
    git = ["git", "-C", str(repo)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run(
        [*git, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "flows"], check=True
    )
    path = folder / "s4-product-to-d365.yaml"
    path.write_text(path.read_text().replace("version: 1\n", "version: 2\n", 1))
    code, output = _run("diff", str(path), "--rev", "HEAD", "--dir", str(folder))
    assert code == 0, output
    assert "~ version: 1 → 2" in output
    assert "1 change(s)" in output
