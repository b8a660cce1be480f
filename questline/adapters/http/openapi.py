"""Print the API's OpenAPI document: `python -m questline.adapters.http.openapi`.

docs/openapi.json is this output; a test fails when the served document differs from it.
"""

from __future__ import annotations

import json
from typing import Any

from questline.adapters.cli.runtime import OFFLINE_DATABASE
from questline.adapters.http.app import create_app
from questline.engine import Engine


def document() -> dict[str, Any]:
    """The document, from an app whose engine is never connected (it depends on routes only)."""
    return create_app(Engine(OFFLINE_DATABASE)).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
