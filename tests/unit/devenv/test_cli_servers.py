"""Exit codes of ``isthmus-dev kafka|registry status`` and of a failed start."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import typer

from isthmus.devenv.cli_servers import report_status, start_server


@dataclass
class Server:
    running_pid: int | None
    answers: bool

    def pid(self) -> int | None:
        return self.running_pid

    def is_ready(self) -> bool:
        return self.answers


@pytest.mark.parametrize(
    ("server", "code", "line"),
    [
        (Server(None, answers=False), 3, "kafka: not running"),
        (Server(41, answers=False), 1, "kafka: pid 41, not answering on 127.0.0.1:9092"),
    ],
)
def test_status_exit_codes(
    server: Server, code: int, line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit) as raised:
        report_status(name="kafka", server=server, address=lambda: "127.0.0.1:9092")
    assert raised.value.exit_code == code
    assert line in capsys.readouterr().out


def test_status_of_a_ready_server_returns(capsys: pytest.CaptureFixture[str]) -> None:
    report_status(name="registry", server=Server(7, answers=True), address=lambda: "http://x")
    assert "registry: pid 7, ready on http://x" in capsys.readouterr().out


def test_a_failed_start_exits_1_with_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    def up() -> str:
        raise RuntimeError("port 9092 is taken")

    with pytest.raises(typer.Exit) as raised:
        start_server(up=up, waiting="starting", failed="kafka failed", errors=(RuntimeError,))
    assert raised.value.exit_code == 1
    assert "port 9092 is taken" in capsys.readouterr().err
