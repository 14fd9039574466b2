"""Print the OpenAPI document of the default configuration (``docs/openapi/ingress.json``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from isthmus.ingress.app import Overrides, build_app
from isthmus.ingress.settings import IngressSettings


def document(*, root: Path) -> dict[str, Any]:
    """The OpenAPI document the ingress serves with the default settings under ``root``."""
    app = build_app(IngressSettings(), root=root, overrides=Overrides(restore_dedup=False))
    try:
        return app.openapi()
    finally:
        app.state.components.ingress.producer.close(timeout_s=0)


def main() -> None:
    """Write the document as indented JSON to stdout."""
    sys.stdout.write(json.dumps(document(root=Path.cwd()), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
