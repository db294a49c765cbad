"""Typed rows parsed from the CMS release files.

Every parser returns a list of these frozen dataclasses, whatever the source form
(fixed-width ``.txt``, ``.csv`` or ``.xlsx``): the three forms of one file must give
equal rows. Numbers are ``Decimal`` exactly as written in the file (``Decimal("19.60")``
keeps its two places); codes are strings with their leading zeros (MAC ``"01112"``,
locality ``"05"``). Blank text fields are ``""``, never ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class RvuRow:
    """One PPRRVU record: the RVUs and payment policy indicators of HCPCS + modifier.

    Field positions (1-based, ``.txt``) are in the RVU25x.pdf record layout.
    """

    hcpcs: str  # 1-5
    modifier: str  # 6-7: "", "26", "TC", "53"
    description: str  # 8-57 (AMA copyright: never served unless a setting allows it)
    status: str  # 58: A, B, C, E, I, J, M, N, P, R, T, X
    not_used_for_medicare: str  # 59: "+" where the code is not used for Medicare payment
    work_rvu: Decimal  # 60-65
    nonfac_pe_rvu: Decimal  # 67-72
    nonfac_na: bool  # 73-74 "NA"
    fac_pe_rvu: Decimal  # 76-81
    fac_na: bool  # 82-83 "NA"
    mp_rvu: Decimal  # 85-89
    nonfac_total: Decimal  # 91-96
    fac_total: Decimal  # 97-102
    pctc: str  # 103
    global_days: str  # 104-106: 000, 010, 090, MMM, XXX, YYY, ZZZ
    pre_op: Decimal  # 107-109 (.99, a share such as Decimal("0.10"))
    intra_op: Decimal  # 110-112
    post_op: Decimal  # 113-115
    mult_proc: str  # 116
    bilateral: str  # 117
    assistant: str  # 118
    co_surgeon: str  # 119
    team: str  # 120
    endo_base: str  # 128-132
    conversion_factor: Decimal  # 133-140
    supervision: str  # 142-143
    calc_flag: str  # 144
    imaging_family: str  # 146-147
    opps_nonfac_pe_rvu: Decimal  # 152-157
    opps_fac_pe_rvu: Decimal  # 159-164
    opps_mp_rvu: Decimal  # 166-171


@dataclass(frozen=True, slots=True)
class GpciRow:
    """One GPCI2025 row. The key is (mac, locality): a locality number repeats across MACs."""

    mac: str  # "01112"
    state: str  # "CA"
    locality: str  # "05"
    locality_name: str  # as printed, including trailing "*" / "**" floor markers
    work: Decimal
    pe: Decimal
    mp: Decimal


@dataclass(frozen=True, slots=True)
class LocalityCountyRow:
    """One 25LOCCO row; ``state`` is filled down from the state's first row."""

    mac: str
    locality: str
    state: str  # full name as printed, stripped: "CALIFORNIA"
    fee_schedule_area: str
    counties: str


@dataclass(frozen=True, slots=True)
class AnesCfRow:
    """One ANES2025 row: the anesthesia conversion factor of a locality."""

    mac: str
    locality: str
    locality_name: str
    anes_cf: Decimal  # 19.31 (the .txt writes the implied-decimal integer 1931)


@dataclass(frozen=True, slots=True)
class OppsCapRow:
    """One OPPSCAP record: the OPPS-based cap per code, modifier, carrier and locality."""

    hcpcs: str
    modifier: str
    status: str  # PROCSTAT: "A" (cap computed), "C" (carrier-priced: cap bounds the price)
    carrier: str
    locality: str
    fac_price: Decimal
    nonfac_price: Decimal


@dataclass(frozen=True, slots=True)
class Zip5Row:
    """One ZIP5 record (layout in ZIP5lyout.txt)."""

    state: str  # 1-2, including the non-USPS EK/WK (Kansas), EM/WM (Missouri)
    zip5: str  # 3-7
    carrier: str  # 8-12
    locality: str  # 13-14
    rural: str  # 15: "" urban, "R" rural, "B" super rural
    lab_cb_locality: str  # 16-17
    rural2: str  # 18
    plus_four: bool  # 21: "1" -> the ZIP spans localities; the ZIP+4 file decides
    part_b_drug: str  # 23
    year_quarter: str  # 76-80 "20254"


# -- CLFS -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClfsRow:
    """One Clinical Laboratory Fee Schedule row; the key is (hcpcs, modifier).

    ``short_description`` is AMA CPT text (copyright): kept for validation and operators,
    never served unless a setting allows it. The ``.csv`` also carries long and extended
    descriptors (AMA text too); the ``.txt`` lacks them, so they are not kept and both forms
    give equal rows.
    """

    year: int  # 2025
    hcpcs: str  # "80053"
    modifier: str  # "" or "QW" (CLIA-waived test)
    effective_date: date  # 2025-01-01
    indicator: str  # "N" national limitation amount, "L" locally priced (rate 0)
    rate: Decimal  # 2 places: 10.56 (the .txt writes 00010.56, the .csv 10.56 or 00010.56)
    short_description: str


# -- ASP


@dataclass(frozen=True, slots=True)
class AspRow:
    """One row of the quarterly ASP pricing file: the Part B drug limit per dosage unit.

    Money and percentages keep the file's three places (``Decimal("0.108")``); a blank
    optional column is ``None`` (text: ``""``).
    """

    hcpcs: str  # "J1100"
    short_description: str  # CMS short descriptor (CPT codes: AMA copyright, never served)
    dosage: str  # "1 MG", "0.5 ML", "Less than or equal to 100 MG"
    payment_limit: Decimal | None  # 0.108; None where the file writes "N/A"
    coinsurance_pct: Decimal | None  # 20.000; less for inflation-adjusted coinsurance
    vaccine_awp_pct: Decimal | None  # 95
    vaccine_limit: Decimal | None  # 83.490
    blood_awp_pct: Decimal | None  # 95
    blood_limit: Decimal | None  # 53.077
    clotting_factor: bool  # the column holds "1": the clotting factor furnishing fee applies
    notes: str  # "Inflation-adjusted coinsurance", "Added January 2025", ...


# -- anesthesia base units


@dataclass(frozen=True, slots=True)
class AnesBaseUnitRow:
    """One row of CMS's anesthesia base units file: a CPT anesthesia code and its units."""

    code: str  # "00100" (00100-01999)
    base_units: int  # 5; 0 for the unlisted procedure 01999 (priced by the MAC)


# -- DMEPOS ----------------------------------------------------------------------------------
# DMEREAD 2025 (Attachments) describes the layouts. Fees keep the file's two places.


@dataclass(frozen=True, slots=True)
class DmeposFeeRow:
    """One fee of ``DMEPOS_*`` or ``DMEPEN_*``: a (code, modifiers, state) cell pair.

    The wide ``.csv`` (a NR/R column pair per state) and the PEN ``.txt`` (one record per
    code, modifiers and state) both become one row per state, so the forms compare equal.
    ``rural`` 0.00 means the code has only a non-rural amount, which then applies (DMEREAD,
    Background). Neither file has a third modifier column: ``modifier3`` is ``""``.
    """

    hcpcs: str
    modifier: str  # "" when blank; NU, RR, UE, KF, ...
    modifier2: str
    modifier3: str  # always "" (kept so the key has the shape of the former-CBA rows)
    jurisdiction: str  # D (DME MAC), L (local Part B carrier), J (joint); "" in DMEPEN
    category: str  # IN, FS, CR, OX, OS, SD, PO, SU, TE, TS, IL, SC, LC, LT; "" in DMEPEN
    ceiling: Decimal | None  # as written (0.00: not subject); None: the file has no column
    floor: Decimal | None
    state: str  # "CA"; non-continental areas AK, HI, PR, VI
    non_rural: Decimal  # the NR column
    rural: Decimal  # the R column; 0.00 -> only the NR amount exists


@dataclass(frozen=True, slots=True)
class DmeRuralZipRow:
    """One row of the DMEPOS rural ZIP code file (DMEREAD Attachment A-5)."""

    state: str  # "MA"; Kansas and Missouri are KS and MO here (not EK/WK, EM/WM)
    zip5: str
    year_quarter: str  # "202501"


@dataclass(frozen=True, slots=True)
class CbaFeeRow:
    """One former competitive bidding area (CBA) fee: code, modifiers and CBA.

    A cell the file writes as ``.`` (no amount for that CBA) is not a row.
    """

    hcpcs: str
    modifier: str
    modifier2: str
    modifier3: str
    category: str  # "" where the file leaves it blank (the enteral B-codes, E0776)
    cba_short_name: str  # the column label, "Aiken County, SC"
    fee: Decimal


@dataclass(frozen=True, slots=True)
class CbaZipRow:
    """One ZIP code of a former CBA."""

    state: str
    zip5: str
    cba_short_name: str  # "San Francisco, CA": the fee file's column label
    cba_name: str  # "San Francisco-Oakland-Hayward, CA"
    year_quarter: str  # "202501"


@dataclass(frozen=True, slots=True)
class MailOrderFeeRow:
    """One national mail-order diabetic testing supply fee (KL modifier)."""

    hcpcs: str
    modifier: str
    modifier2: str
    modifier3: str
    category: str
    fee: Decimal


# -- OPPS (the CY 2025 final-rule addenda) and its wage index ---------------------------------
# Addendum B is tab-separated ISO-8859-1 text; money is written "$911.71", "$10,411.22" (in
# quotes) or "2082.24"; "." is an empty copayment; status indicators carry trailing spaces.


@dataclass(frozen=True, slots=True)
class OppsRateRow:
    """One row of OPPS Addendum B (payment by HCPCS code). An empty cell is ``None``/``""``."""

    hcpcs: str  # "45378"
    short_description: str  # CPT text: AMA copyright, never served
    comment_indicator: str  # "", "CH", "NI", ...
    status_indicator: str  # stripped: "T", "J1", "Q4", "E1", ...
    apc: str  # "5311"; "" when none
    relative_weight: Decimal | None  # 10.2245; None for rows without one (drugs K, ...)
    payment_rate: Decimal | None  # as written, up to 3 places for drugs ($58.216)
    national_copay: Decimal | None  # None where the file writes "." or nothing
    minimum_copay: Decimal | None  # 20% of the rate, rounded by CMS
    ira_coinsurance_pct: Decimal | None  # 20.000 ("20.000%"); inflation-adjusted drugs
    adjusted_copay: Decimal | None  # "Adjusted Beneficiary Copayment" (capped, IRA-adjusted)
    pass_through_expiration: str  # the column as written ("" mostly)
    note: str  # "Copayments capped at inpatient deductible of $1,632.00.", ...


@dataclass(frozen=True, slots=True)
class OppsIndicatorRow:
    """One status indicator of OPPS Addendum D1, its continuation lines joined."""

    indicator: str  # "J1"
    item: str  # "Hospital Part B Services Paid Through a Comprehensive APC"
    payment_status: str  # "Paid under OPPS; all covered Part B services on the claim ..."


@dataclass(frozen=True, slots=True)
class WageIndexRow:
    """One row of the OPPS Pricer's CBSA wage index table (``cbsa-wage-index-2025.csv``)."""

    cbsa: str  # "35614"; a 2-digit state code ("09") is the state's rural area
    effective_date: date
    geographic: Decimal  # 0.0000 where the state has no rural area (DC, NJ, RI)
    reclassified: Decimal
    imputed_floor: Decimal  # 0.0000 where none applies
    name: str  # "New York-Jersey City-White Plains NY-NJ" (two names carry "?" for a letter)


# -- ASC (January 2025 addenda AA, BB, DD1, FF) -----------------------------------------------


@dataclass(frozen=True, slots=True)
class AscRateRow:
    """One row of ASC Addendum AA (surgical procedures) or BB (ancillary services)."""

    addendum: str  # "AA" | "BB"
    hcpcs: str
    marker: str  # the file's second column: "", "*", "**", "***" (footnote marks)
    short_description: str  # AMA copyright, never served
    multiple_procedure_discount: bool | None  # AA "Y"/"N"; None in BB (no such column)
    payment_indicator: str  # "A2", "G2", "J8", "N1", "K2", ...
    weight: Decimal | None  # None where the file leaves it blank
    rate: Decimal | None  # None where blank (packaged N1, ...)
    pass_through_expiration: str  # BB only; "" elsewhere
    adjusted_copay: Decimal | None  # BB "IRA-22 Adjusted Copayment"; None elsewhere


@dataclass(frozen=True, slots=True)
class AscIndicatorRow:
    """One ASC payment indicator of Addendum DD1 and its definition."""

    indicator: str  # "A2"
    definition: str


@dataclass(frozen=True, slots=True)
class AscDeviceRow:
    """One row of ASC Addendum FF (device offset percentages)."""

    hcpcs: str
    payment_indicator: str
    apc: str  # "" when blank
    apc_device_offset_pct: Decimal | None  # 21.29 ("21.29%")
    opps_rate: Decimal | None  # the January 2025 OPPS payment rate (911.77 for 45378)
    device_offset_pct: Decimal | None  # 35.62
    device_portion: Decimal | None  # the device offset amount in dollars (2,329.54)
