"""docs/operations.md carries the configuration reference the settings classes produce today."""

from __future__ import annotations

from pathlib import Path

from isthmus.devenv.configdoc import BEGIN, END, reference, render


def test_committed_configuration_reference_is_current(repo_root: Path) -> None:
    page = (repo_root / "docs" / "operations.md").read_text(encoding="utf-8")
    assert BEGIN in page and END in page
    assert render(page) == page, (
        "docs/operations.md is stale: run `uv run python -m isthmus.devenv.configdoc --write`"
    )


def test_reference_names_every_service_prefix() -> None:
    text = reference()
    for prefix in (
        "ISTHMUS_INGRESS_",
        "ISTHMUS_TRANSFORMER_",
        "ISTHMUS_SAP_SINK_",
        "ISTHMUS_D365_SINK_",
    ):
        assert f"`{prefix}KAFKA__BOOTSTRAP_SERVERS`" in text


def test_a_shared_model_shows_the_defaults_the_service_gives_it() -> None:
    rows = {
        line.split("|")[1].strip(" `"): line.split("|")[2].strip(" `")
        for line in reference().splitlines()
        if line.startswith("| `ISTHMUS_")
    }
    assert rows["ISTHMUS_SAP_SINK_PROCESSOR__GROUP_ID"] == "sap-sink"
    assert rows["ISTHMUS_SAP_SINK_PROCESSOR__BATCH_SIZE"] == "200"
    assert rows["ISTHMUS_D365_SINK_PROCESSOR__GROUP_ID"] == "d365-sink"
    assert rows["ISTHMUS_TRANSFORMER_PROCESSOR__EXACTLY_ONCE"] == "True"
    assert rows["ISTHMUS_SAP_SINK_KAFKA__SASL_PASSWORD"] == "(secret)"
