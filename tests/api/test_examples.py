"""The API docs show a valid example answer for every read and plan endpoint."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from cms_pricing.api import examples, schemas


@pytest.mark.parametrize(
    ("example", "model"),
    [
        (examples.PRICE, schemas.PriceOut),
        (examples.LOCALITY_OF_ZIP, schemas.LocalitiesOut),
        (examples.CODE_ROWS, schemas.CodeOut),
        (examples.RELEASES, schemas.ReleasesOut),
        (examples.SCHEDULES, schemas.SchedulesOut),
        (examples.CLFS_PRICE, schemas.ClfsPriceOut),
    ],
)
def test_examples_match_their_schemas(example: dict[str, object], model: type[BaseModel]) -> None:
    """Each documented example validates against the schema the endpoint declares."""
    model.model_validate(example)


def test_every_data_endpoint_documents_an_example(client: TestClient) -> None:
    """Every pricing, reference and plan operation carries a 200/201 example in /openapi.json."""
    spec = client.get("/openapi.json").json()
    missing = [
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if path.startswith(("/codes", "/reference", "/releases", "/plans"))
        and method != "delete"
        and "example" not in str(operation.get("responses", {}))
    ]
    assert missing == []
