"""Example answers for the OpenAPI document, taken from real answers on the 2025 files.

Generated once from the service itself; tests/api/test_examples.py checks each still
validates against its schema. RVUs, GPCIs and amounts are CMS public data; no AMA
descriptor appears in them.
"""

from __future__ import annotations

from typing import Any

PRICE: dict[str, Any] = {
    "schedule": "mpfs",
    "code": "99213",
    "modifier": "",
    "setting": "office",
    "pos": None,
    "payable": True,
    "status": "A",
    "status_reason": "active code: paid separately under the physician fee schedule",
    "setting_na": False,
    "amount_cents": 10915,
    "amount": "109.15",
    "non_participating_cents": 10369,
    "non_participating": "103.69",
    "limiting_charge_cents": 11925,
    "limiting_charge": "119.25",
    "release": {
        "id": "RVU25D",
        "effective_from": "2025-10-01",
        "effective_to": "2025-12-31",
        "sha256": "3f280e0a0d25c7046b7108980923e11400dd005e81f1b7dbb0d0b551a1cd63c0",
        "published_at": "2026-11-27T13:12:20.885113+00:00",
    },
    "geography": {
        "zip": "94110",
        "plus4": None,
        "state": "CA",
        "state_name": "CALIFORNIA",
        "carrier": "01112",
        "locality": "05",
        "carrier_locality": "0111205",
        "locality_name": "SAN FRANCISCO-OAKLAND-BERKELEY (SAN FRANCISCO/SAN "
        "MATEO/ALAMEDA/CONTRA COSTA CNTY)",
        "rural": "",
        "match": "zip5",
        "ambiguous": False,
        "note": None,
    },
    "components": {
        "work_rvu": "1.30",
        "pe_rvu": "1.35",
        "mp_rvu": "0.10",
        "gpci": {"work": "1.088", "pe": "1.419", "mp": "0.445"},
        "conversion_factor": "32.3465",
        "unrounded_amount": "109.154881575",
        "arithmetic": "(1.30 x 1.088 + 1.35 x 1.419 + 0.10 x 0.445) x 32.3465 = 109.154881575",
    },
    "opps_cap": {"applies": False, "cap_cents": None, "cap": None, "mpfs_cents": None},
    "indicators": {
        "pctc": "0",
        "global_days": "XXX",
        "pre_op": "0.00",
        "intra_op": "0.00",
        "post_op": "0.00",
        "mult_proc": "0",
        "bilateral": "0",
        "assistant": "0",
        "co_surgeon": "0",
        "team": "0",
        "endo_base": "",
        "supervision": "09",
        "imaging_family": "99",
    },
    "notes": [],
}

LOCALITY_OF_ZIP: dict[str, Any] = {
    "release": {
        "id": "RVU25D",
        "effective_from": "2025-10-01",
        "effective_to": "2025-12-31",
        "sha256": "3f280e0a0d25c7046b7108980923e11400dd005e81f1b7dbb0d0b551a1cd63c0",
        "published_at": "2026-11-27T13:12:20.885113+00:00",
    },
    "geography": {
        "zip": "94110",
        "plus4": None,
        "state": "CA",
        "state_name": "CALIFORNIA",
        "carrier": "01112",
        "locality": "05",
        "carrier_locality": "0111205",
        "locality_name": "SAN FRANCISCO-OAKLAND-BERKELEY (SAN FRANCISCO/SAN "
        "MATEO/ALAMEDA/CONTRA COSTA CNTY)",
        "rural": "",
        "match": "zip5",
        "ambiguous": False,
        "note": None,
    },
    "locality": {
        "carrier": "01112",
        "locality": "05",
        "carrier_locality": "0111205",
        "state": "CA",
        "state_name": "CALIFORNIA",
        "name": "SAN FRANCISCO-OAKLAND-BERKELEY (SAN FRANCISCO/SAN MATEO/ALAMEDA/CONTRA "
        "COSTA CNTY)",
        "fee_schedule_area": "SAN FRANCISCO-OAKLAND-BERKELEY (SAN FRANCISCO "
        "CNTY/ALAMEDA/CONTRA COSTA/SAN MATEO)",
        "counties": "SAN FRANCISCO/ALAMEDA/CONTRA COSTA/SAN MATEO",
        "gpci": {"work": "1.088", "pe": "1.419", "mp": "0.445"},
        "anesthesia_cf": "22.37",
    },
}

CODE_ROWS: dict[str, Any] = {
    "code": "71046",
    "release": {
        "id": "RVU25D",
        "effective_from": "2025-10-01",
        "effective_to": "2025-12-31",
        "sha256": "3f280e0a0d25c7046b7108980923e11400dd005e81f1b7dbb0d0b551a1cd63c0",
        "published_at": "2026-11-27T13:12:20.885113+00:00",
    },
    "rows": [
        {
            "modifier": "",
            "status": "A",
            "status_reason": "active code: paid separately under the physician fee schedule",
            "not_used_for_medicare": False,
            "work_rvu": "0.22",
            "nonfacility_pe_rvu": "0.77",
            "nonfacility_na": False,
            "facility_pe_rvu": "0.77",
            "facility_na": True,
            "mp_rvu": "0.02",
            "nonfacility_total": "1.01",
            "facility_total": "1.01",
            "conversion_factor": "32.3465",
            "opps_nonfacility_pe_rvu": "2.76",
            "opps_facility_pe_rvu": "2.76",
            "opps_mp_rvu": "0.05",
            "indicators": {
                "pctc": "1",
                "global_days": "XXX",
                "pre_op": "0.00",
                "intra_op": "0.00",
                "post_op": "0.00",
                "mult_proc": "0",
                "bilateral": "0",
                "assistant": "0",
                "co_surgeon": "0",
                "team": "0",
                "endo_base": "",
                "supervision": "09",
                "imaging_family": "99",
            },
        },
        {
            "modifier": "26",
            "status": "A",
            "status_reason": "active code: paid separately under the physician fee schedule",
            "not_used_for_medicare": False,
            "work_rvu": "0.22",
            "nonfacility_pe_rvu": "0.08",
            "nonfacility_na": False,
            "facility_pe_rvu": "0.08",
            "facility_na": False,
            "mp_rvu": "0.01",
            "nonfacility_total": "0.31",
            "facility_total": "0.31",
            "conversion_factor": "32.3465",
            "opps_nonfacility_pe_rvu": "0.00",
            "opps_facility_pe_rvu": "0.00",
            "opps_mp_rvu": "0.00",
            "indicators": {
                "pctc": "1",
                "global_days": "XXX",
                "pre_op": "0.00",
                "intra_op": "0.00",
                "post_op": "0.00",
                "mult_proc": "0",
                "bilateral": "0",
                "assistant": "0",
                "co_surgeon": "0",
                "team": "0",
                "endo_base": "",
                "supervision": "09",
                "imaging_family": "99",
            },
        },
        {
            "modifier": "TC",
            "status": "A",
            "status_reason": "active code: paid separately under the physician fee schedule",
            "not_used_for_medicare": False,
            "work_rvu": "0.00",
            "nonfacility_pe_rvu": "0.69",
            "nonfacility_na": False,
            "facility_pe_rvu": "0.69",
            "facility_na": True,
            "mp_rvu": "0.01",
            "nonfacility_total": "0.70",
            "facility_total": "0.70",
            "conversion_factor": "32.3465",
            "opps_nonfacility_pe_rvu": "2.68",
            "opps_facility_pe_rvu": "2.68",
            "opps_mp_rvu": "0.04",
            "indicators": {
                "pctc": "1",
                "global_days": "XXX",
                "pre_op": "0.00",
                "intra_op": "0.00",
                "post_op": "0.00",
                "mult_proc": "0",
                "bilateral": "0",
                "assistant": "0",
                "co_surgeon": "0",
                "team": "0",
                "endo_base": "",
                "supervision": "01",
                "imaging_family": "99",
            },
        },
    ],
}

RELEASES: dict[str, Any] = {
    "releases": [
        {
            "id": "RVU25A",
            "schedule": "mpfs",
            "year": 2025,
            "effective_from": "2025-01-01",
            "effective_to": "2025-03-31",
            "sha256": "f98d0c548fa056cfdc48827f5ae31d4fbbfa24d223535e260eb85cdd4339984b",
            "published_at": "2026-11-27T13:12:17.771433+00:00",
            "files": [
                {
                    "kind": "anes",
                    "name": "ANES2025.txt",
                    "sha256": "1fdb7ffd537fb1562ba01d01c29d1e315e9d7f0223206ece7716e190d9376a6f",
                    "rows": 109,
                },
                {
                    "kind": "gpci",
                    "name": "GPCI2025.txt",
                    "sha256": "6c267d2a8fe83bf06a698b18474c3cdff8505fd626e2b2f9e022438899c4ee0d",
                    "rows": 109,
                },
                {
                    "kind": "locco",
                    "name": "25LOCCO.txt",
                    "sha256": "331778dd85ea4dfcf7ad234544fe358077281507a072f7b581733ac7c1567fcf",
                    "rows": 110,
                },
                {
                    "kind": "oppscap",
                    "name": "OPPSCAP_JAN.txt",
                    "sha256": "d49c289da42515a5ca15f149d736e57ce0c49e3d5dfdd484da2afdfbaf0afbc7",
                    "rows": 16100,
                },
                {
                    "kind": "pprrvu",
                    "name": "PPRRVU25_JAN.txt",
                    "sha256": "8f908457a4e79ea3e2b139f92307cfe30c9e7417bca6ca9cb143bb3bae804560",
                    "rows": 18865,
                },
            ],
        }
    ],
    "zip_datasets": [
        {
            "id": "ZIP5-20254",
            "year_quarter": "20254",
            "sha256": "0ffa1220144172528fc77422093953c9b618130c4c003969773fb3b143a6b276",
            "published_at": "2026-11-27T13:12:21.778362+00:00",
            "files": [
                {
                    "kind": "zip5",
                    "name": "ZIP5_OCT2025.txt",
                    "sha256": "91274c9bd849e25bec4d5f6bcae0c7172140a8086323b0029ab8bd88035f6a60",
                    "rows": 42956,
                }
            ],
        }
    ],
    "datasets": [
        {
            "id": "CLFS-2025Q1",
            "schedule": "clfs",
            "effective_from": "2025-01-01",
            "effective_to": "2025-03-31",
            "sha256": "37be0df801144157556f1ceaa20b11a6d0b5e83e4a828115b0818e6f4c68559e",
            "published_at": "2026-12-04T22:01:55.224331+00:00",
            "files": [
                {
                    "kind": "clfs",
                    "name": "CLFS 2025 Q1V1.txt",
                    "sha256": "3f0dfe2b05ab7ae76d54019f86091957bef821740242874d1fc33a225b3441b7",
                    "rows": 2087,
                }
            ],
        }
    ],
}

SCHEDULES: dict[str, Any] = {
    "schedules": [
        {
            "schedule": "mpfs",
            "title": "Medicare Physician Fee Schedule",
            "datasets": RELEASES["releases"],
        },
        {
            "schedule": "clfs",
            "title": "Clinical Laboratory Fee Schedule",
            "datasets": RELEASES["datasets"],
        },
    ],
    "zip_datasets": RELEASES["zip_datasets"],
}

CLFS_PRICE: dict[str, Any] = {
    "schedule": "clfs",
    "code": "80053",
    "modifiers": [],
    "payable": True,
    "reason": None,
    "amount_cents": 1056,
    "amount": "10.56",
    "release": {
        "id": "CLFS-2025Q1",
        "schedule": "clfs",
        "effective_from": "2025-01-01",
        "effective_to": "2025-03-31",
        "sha256": "37be0df801144157556f1ceaa20b11a6d0b5e83e4a828115b0818e6f4c68559e",
        "published_at": "2026-12-04T22:01:55.224331+00:00",
    },
    "geography": None,
    "components": {
        "rate": "10.56",
        "indicator": "N",
        "indicator_meaning": "national limitation amount: the fee schedule rate paid nationally",
        "effective_date": "2025-01-01",
    },
    "cost_sharing": {"deductible_applies": False, "coinsurance_rate": "0"},
    "notes": [],
}

# GET /codes/price answers one schema per schedule: one named example each documented here.
PRICE_EXAMPLES: dict[str, Any] = {"mpfs": PRICE, "clfs": CLFS_PRICE}
