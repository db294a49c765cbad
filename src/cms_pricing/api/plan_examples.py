"""Example answers of the plan endpoints, shown by ``/docs`` (request examples are in
``api/plan_schemas.py``). Abbreviated: the full shapes are what ``api/plans.py`` builds."""

from __future__ import annotations

from typing import Any

SAVED_EXAMPLE: dict[str, Any] = {
    "id": "pln_3f9a0c1b2d4e5f6a7b8c9d0e",
    "name": "TKA episode, Manhattan",
    "version": 1,
    "etag": '"v1"',
    "lines": 2,
    "content_sha256": "6f61b51bb7b5d1f15dd8f36112a14c27e9a542f40592cb3d5a59908092230b99",
    "created_at": "2026-11-27T13:33:23.408750+00:00",
    "updated_at": "2026-11-27T13:33:23.408750+00:00",
}
LINE_OUT_EXAMPLE: dict[str, Any] = {
    "line": 1,
    "code": "29881",
    "modifiers": ["51"],
    "allowed": "313.33",
    "allowed_cents": 31333,
    "adjustments": [
        {
            "rule": "multiple_procedure",
            "modifier": "51",
            "percent": "50",
            "applies_to": "fee schedule amount",
            "explanation": "multiple procedure indicator 3: ranked 2 of 2 ...: paid 50%",
            "citation": "RVU25x.pdf record layout: Multiple Procedure (Modifier 51), "
            "position 116, indicator 3",
        }
    ],
}
PRICED_EXAMPLE: dict[str, Any] = {
    "release": {"id": "RVU25D", "sha256": "3f280e0a0d25c7046b7108980923e114..."},
    "geography": {"zip": "10001", "carrier_locality": "1320201", "locality_name": "MANHATTAN"},
    "lines": [LINE_OUT_EXAMPLE],
    "totals": {
        "allowed": "1778.78",
        "allowed_cents": 177878,
        "unrounded_allowed": "1778.7772175775",
        "rounding": "claim",
        "complete": True,
    },
    "cost_sharing": {"deductible": "257.00", "coinsurance": "304.36", "program_paid": "1217.42"},
    "notes": ["Rounding basis 'claim': as Medicare's claims systems do, ..."],
}

COMPARE_EXAMPLE: dict[str, Any] = {
    "release": PRICED_EXAMPLE["release"],
    "baseline": "Manhattan",
    "cheapest": "Alabama",
    "most_expensive": "Manhattan",
    "locations": [
        {"label": "Manhattan", "totals": {"allowed": "1778.78"},
         "difference": {"allowed": "0.00", "allowed_cents": 0, "percent": "0.00"}},
        {"label": "Alabama", "totals": {"allowed": "1404.96"},
         "difference": {"allowed": "-373.82", "allowed_cents": -37382, "percent": "-21.02"}},
    ],
}  # fmt: skip
DELETED: dict[int | str, Any] = {204: {"description": "Deleted; no body"}}
LIST_EXAMPLE: dict[str, Any] = {"plans": [SAVED_EXAMPLE], "next_cursor": "cGxhbjoyMA"}
SAVED_PRICE_EXAMPLE: dict[str, Any] = {
    "plan": {"id": SAVED_EXAMPLE["id"], "version": 1, "etag": '"v1"'},
    "price": PRICED_EXAMPLE,
}

# POST /plans/sites with SITES_BODY_EXAMPLE (45378 + 43239 in Manhattan, CBSA 35614, RVU25A),
# its real figures, abbreviated: each line also carries its full professional and facility line.
SITES_EXAMPLE: dict[str, Any] = {
    "release": PRICED_EXAMPLE["release"],
    "geography": {"zip": "10001", "carrier_locality": "1320201", "locality_name": "MANHATTAN"},
    "facility_fees": "wage-adjusted",
    "lowest": "office",
    "sites": [
        {"site": "office", "payable": True, "reason": None,
         "totals": {"allowed": "602.29", "professional": "602.29", "facility": "0.00"},
         "lines": [{"line": 0, "code": "45378", "professional": "189.12", "facility": None,
                    "facility_reason": None},
                   {"line": 1, "code": "43239", "professional": "413.17", "facility": None,
                    "facility_reason": None}],
         "beneficiary": "326.06",
         "difference": {"allowed": "0.00", "beneficiary": "0.00"}},
        {"site": "hospital_outpatient", "payable": True, "reason": None,
         "totals": {"allowed": "1919.53", "professional": "278.56", "facility": "1640.97"},
         "lines": [{"line": 0, "code": "45378", "professional": "202.85", "facility": "536.84",
                    "facility_reason": None},
                   {"line": 1, "code": "43239", "professional": "75.71", "facility": "1104.13",
                    "facility_reason": None}],
         "beneficiary": "589.51",
         "difference": {"allowed": "1317.24", "beneficiary": "263.45"}},
        {"site": "asc", "payable": True, "reason": None,
         "totals": {"allowed": "1137.45", "professional": "278.56", "facility": "858.89"},
         "lines": [{"line": 0, "code": "45378", "professional": "202.85", "facility": "280.97",
                    "facility_reason": None},
                   {"line": 1, "code": "43239", "professional": "75.71", "facility": "577.92",
                    "facility_reason": None}],
         "beneficiary": "433.09",
         "difference": {"allowed": "535.16", "beneficiary": "107.03"}},
    ],
    "notes": ["Each site is the plan priced as a whole ..."],
}  # fmt: skip
