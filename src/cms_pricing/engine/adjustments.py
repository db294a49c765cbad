"""Line-level payment modifiers of a treatment plan: what each modifier does to one line.

Contract (authority: the RVU25x.pdf record layout, positions 104-120, and Attachment A):

- ``parse_modifiers`` splits a line's modifiers into the PPRRVU row modifier (blank, 26, TC,
  53: at most one) and the payment modifiers. Accepted payment modifiers: 50 (bilateral),
  51 (multiple procedure), 54/55/56 (global split), 62 (co-surgeons), 66 (team), 80/81/82/AS
  (assistant at surgery); informational modifiers (RT, LT, 59, X{EPSU}, 76, 77, 79, 25, 57,
  24, GC) are accepted and do not change the price. Anything else is ``BadRequest``;
  combinations that cannot appear on one claim line (two global-split modifiers, an assistant
  modifier with 62 or 66, ...) are ``Unprocessable``.
- ``line_terms`` reads the code's indicators and returns the bilateral factor (applied to
  the fee schedule amount before any multiple procedure rule) and the line factor (assistant,
  co-surgeon and global-split percentages, applied after it), each with its ``Adjustment``.
  Where CMS does not pay (assistant indicator 1, co-surgeon or team indicator 0) the line is
  ``paid=False``; where CMS pays "by report" (team surgery) it is ``by_report=True``: no
  number is invented. A modifier whose concept does not apply to the code (indicator 9, a
  global split on a code without a global period) is ``Unprocessable``.

Percentages are exact ``Decimal`` factors; nothing here rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from cms_pricing.errors import BadRequest, Unprocessable
from cms_pricing.reference.rows import RvuRow

ROW_MODIFIERS = frozenset({"26", "TC", "53"})
ASSISTANT = frozenset({"80", "81", "82", "AS"})
SPLITS = frozenset({"54", "55", "56"})
PAYMENT_MODIFIERS = frozenset({"50", "51", "62", "66"}) | ASSISTANT | SPLITS
INFORMATIONAL = frozenset(
    {"RT", "LT", "59", "XE", "XP", "XS", "XU", "76", "77", "79", "25", "57", "24", "GC"}
)
MODIFIERS = ROW_MODIFIERS | PAYMENT_MODIFIERS | INFORMATIONAL  # every modifier a line may carry
MAX_MODIFIERS = 4  # a claim line carries at most four modifiers

ASSISTANT_SHARE = Decimal("0.16")
# Non-physician practitioners (PA, NP, CNS) are paid 85% of the physician amount, so an
# assistant at surgery billed with AS is 85% of 16% = 13.6% (Claims Processing Manual ch.12).
NPP_ASSISTANT_SHARE = Decimal("0.136")
CO_SURGEON_SHARE = Decimal("0.625")
BILATERAL_150 = Decimal("1.5")
BILATERAL_EACH_SIDE = Decimal("2")
ONE = Decimal("1")

CITE_BILATERAL = "RVU25x.pdf record layout: Bilateral Surgery (Modifier 50), position 117"
CITE_ASSISTANT = "RVU25x.pdf record layout: Assistant at Surgery, position 118"
CITE_CO_SURGEON = "RVU25x.pdf record layout: Co-surgeons (Modifier 62), position 119"
CITE_TEAM = "RVU25x.pdf record layout: Team Surgery (Modifier 66), position 120"
CITE_SPLIT = "RVU25x.pdf record layout: Pre/Intra/Postoperative Percentage, positions 107-115"
CITE_MULTIPLE = "RVU25x.pdf record layout: Multiple Procedure (Modifier 51), position 116"


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One payment rule applied to a plan line, explained.

    ``percent`` is the share paid of ``applies_to`` (``"50"`` = half of it is paid); it is
    None where the rule pays nothing or is by report.
    """

    rule: str
    modifier: str | None
    percent: Decimal | None
    applies_to: str
    explanation: str
    citation: str


@dataclass(frozen=True, slots=True)
class Modifiers:
    row: str  # "", "26", "TC" or "53": which PPRRVU row prices the line
    payment: frozenset[str]
    informational: tuple[str, ...]

    @property
    def assistant(self) -> str | None:
        return next(iter(sorted(self.payment & ASSISTANT)), None)

    @property
    def split(self) -> str | None:
        return next(iter(sorted(self.payment & SPLITS)), None)


@dataclass(frozen=True, slots=True)
class LineTerms:
    """What a line's modifiers do to its price, before multiple procedure rules."""

    bilateral: Decimal = ONE  # factor on the fee schedule amount of one unit
    factor: Decimal = ONE  # product of assistant, co-surgeon and global-split shares
    shares: tuple[Decimal, ...] = ()  # those shares in the order a claims system applies them
    paid: bool = True
    by_report: bool = False
    bilateral_by_units: bool = False  # two units of a bilateral code priced as one pair
    ranked: bool = True  # takes part in multiple procedure ranking
    adjustments: tuple[Adjustment, ...] = ()
    notes: tuple[str, ...] = field(default=())


def parse_modifiers(values: tuple[str, ...] | list[str]) -> Modifiers:
    """Normalise and classify a line's modifiers (see the module docstring)."""
    if len(values) > MAX_MODIFIERS:
        raise BadRequest(f"at most {MAX_MODIFIERS} modifiers per line", field="modifiers")
    seen = [v.strip().upper() for v in values if v and v.strip()]
    if len(set(seen)) != len(seen):  # "rt" and "RT": the same modifier twice
        raise Unprocessable(f"a modifier is repeated: {', '.join(seen)}", field="modifiers")
    unknown = [v for v in seen if v not in ROW_MODIFIERS | PAYMENT_MODIFIERS | INFORMATIONAL]
    if unknown:
        raise BadRequest(
            f"unsupported modifier {unknown[0]!r}; accepted: 26, TC, 53, 50, 51, 54, 55, 56, "
            f"62, 66, 80, 81, 82, AS and informational {', '.join(sorted(INFORMATIONAL))}",
            field="modifiers",
        )
    rows = [v for v in seen if v in ROW_MODIFIERS]
    payment = frozenset(v for v in seen if v in PAYMENT_MODIFIERS)
    _check_combination(rows, payment)
    info = tuple(v for v in seen if v in INFORMATIONAL)
    return Modifiers(rows[0] if rows else "", payment, info)


def _check_combination(rows: list[str], payment: frozenset[str]) -> None:
    clashes = [
        (len(rows) > 1, "at most one of 26, TC and 53"),
        (len(payment & SPLITS) > 1, "at most one of 54, 55 and 56"),
        (len(payment & ASSISTANT) > 1, "at most one of 80, 81, 82 and AS"),
        (bool(payment & ASSISTANT) and bool(payment & {"62", "66"}), "an assistant modifier "
         "with 62 or 66: the assistant is not a co-surgeon or team surgeon"),
        ({"62", "66"} <= payment, "62 and 66 together: co-surgery or team surgery, not both"),
    ]  # fmt: skip
    for clash, words in clashes:
        if clash:
            raise Unprocessable(f"modifiers: {words}", field="modifiers")


def line_terms(row: RvuRow, mods: Modifiers, units: int) -> LineTerms:
    """The bilateral factor, line factor and their explanations for one priced row."""
    terms = _bilateral(row, mods, units)
    for step in (_assistant, _co_surgeon, _team, _split):
        terms = step(row, mods, terms)
    return _modifier_51(row, mods, terms)


def _with(terms: LineTerms, **changes: object) -> LineTerms:
    values = {
        "bilateral": terms.bilateral,
        "factor": terms.factor,
        "shares": terms.shares,
        "paid": terms.paid,
        "by_report": terms.by_report,
        "bilateral_by_units": terms.bilateral_by_units,
        "ranked": terms.ranked,
        "adjustments": terms.adjustments,
        "notes": terms.notes,
    }
    values.update(changes)
    return LineTerms(**values)  # type: ignore[arg-type]


def _add(terms: LineTerms, adjustment: Adjustment, **changes: object) -> LineTerms:
    return _with(terms, adjustments=(*terms.adjustments, adjustment), **changes)


def _note(terms: LineTerms, note: str) -> LineTerms:
    return _with(terms, notes=(*terms.notes, note))


# -- bilateral -------------------------------------------------------------------------------

_BILATERAL_WORDS = {
    "0": (ONE, "bilateral indicator 0: the 150% adjustment does not apply; both sides are "
          "paid at 100% of the fee schedule amount for a single code"),
    "1": (BILATERAL_150, "bilateral indicator 1: both sides are paid at 150% of the fee "
          "schedule amount for a single code, before any multiple procedure rule"),
    "2": (ONE, "bilateral indicator 2: the RVUs already describe the procedure done on both "
          "sides; paid at 100% of the fee schedule amount for a single code"),
    "3": (BILATERAL_EACH_SIDE, "bilateral indicator 3: each side is paid at 100% of the fee "
          "schedule amount (200% for both), before any multiple procedure rule"),
}  # fmt: skip


def _bilateral(row: RvuRow, mods: Modifiers, units: int) -> LineTerms:
    by_units = "50" not in mods.payment and units == 2 and row.bilateral in ("1", "2", "3")
    if "50" not in mods.payment and not by_units:
        return LineTerms()
    if row.bilateral not in _BILATERAL_WORDS:
        raise Unprocessable(
            f"{row.hcpcs}-50: bilateral indicator {row.bilateral or 'blank'}: the bilateral "
            "concept does not apply to this code",
            field="modifiers",
        )
    if "50" in mods.payment and units != 1:
        raise Unprocessable(
            "modifier 50 is billed on one line with 1 unit (both sides)", field="units"
        )
    factor, words = _BILATERAL_WORDS[row.bilateral]
    how = "2 units of a bilateral-indicator code are priced as one bilateral procedure" + (
        " (RVU25x.pdf: 'or with a 2 in the units field')"
    )
    text = f"{how}; {words}" if by_units else words
    adjustment = Adjustment("bilateral", "50", factor * 100, "fee schedule amount", text,
                            f"{CITE_BILATERAL}, indicator {row.bilateral}")  # fmt: skip
    return _add(LineTerms(), adjustment, bilateral=factor, bilateral_by_units=by_units)


# -- assistant, co-surgeon, team ---------------------------------------------------------------


def _assistant(row: RvuRow, mods: Modifiers, terms: LineTerms) -> LineTerms:
    modifier = mods.assistant
    if modifier is None:
        return terms
    cite = f"{CITE_ASSISTANT}, indicator {row.assistant}"
    if row.assistant == "1":
        text = ("assistant indicator 1: statutory payment restriction; an assistant at "
                "surgery may not be paid for this procedure")  # fmt: skip
        return _add(terms, Adjustment("assistant_at_surgery", modifier, None,
                                      "fee schedule amount", text, cite), paid=False)  # fmt: skip
    if row.assistant not in ("0", "2"):
        raise Unprocessable(
            f"{row.hcpcs}-{modifier}: assistant indicator {row.assistant or 'blank'}: the "
            "assistant-at-surgery concept does not apply to this code",
            field="modifiers",
        )
    share = NPP_ASSISTANT_SHARE if modifier == "AS" else ASSISTANT_SHARE
    text = _assistant_words(row.assistant, modifier)
    adjustment = Adjustment("assistant_at_surgery", modifier, share * 100,
                            "fee schedule amount", text, cite)  # fmt: skip
    return _add(terms, adjustment, factor=terms.factor * share, shares=(*terms.shares, share))


def _assistant_words(indicator: str, modifier: str) -> str:
    who = (
        "a physician assistant, nurse practitioner or clinical nurse specialist (AS) is paid "
        "85% of the 16% an assistant-at-surgery physician receives: 13.6%"
        if modifier == "AS"
        else f"an assistant at surgery ({modifier}) is paid 16%"
    )
    if indicator == "0":
        return (
            f"assistant indicator 0: payable only when documentation establishes medical "
            f"necessity; if it does, {who} of the fee schedule amount"
        )
    return f"assistant indicator 2: no restriction; {who} of the fee schedule amount"


def _co_surgeon(row: RvuRow, mods: Modifiers, terms: LineTerms) -> LineTerms:
    if "62" not in mods.payment:
        return terms
    cite = f"{CITE_CO_SURGEON}, indicator {row.co_surgeon}"
    if row.co_surgeon == "0":
        text = "co-surgeon indicator 0: co-surgeons are not permitted for this procedure"
        return _add(terms, Adjustment("co_surgeon", "62", None, "fee schedule amount",
                                      text, cite), paid=False)  # fmt: skip
    if row.co_surgeon not in ("1", "2"):
        raise Unprocessable(
            f"{row.hcpcs}-62: co-surgeon indicator {row.co_surgeon or 'blank'}: the "
            "co-surgeon concept does not apply to this code",
            field="modifiers",
        )
    need = (
        "supporting documentation must establish the medical necessity of two surgeons"
        if row.co_surgeon == "1"
        else "no documentation required when the two-specialty requirement is met"
    )
    text = (
        f"co-surgeon indicator {row.co_surgeon}: {need}; each co-surgeon is paid 62.5% of "
        "the fee schedule amount"
    )
    adjustment = Adjustment("co_surgeon", "62", CO_SURGEON_SHARE * 100,
                            "fee schedule amount", text, cite)  # fmt: skip
    return _add(terms, adjustment, factor=terms.factor * CO_SURGEON_SHARE,
                shares=(*terms.shares, CO_SURGEON_SHARE))  # fmt: skip


def _team(row: RvuRow, mods: Modifiers, terms: LineTerms) -> LineTerms:
    if "66" not in mods.payment:
        return terms
    cite = f"{CITE_TEAM}, indicator {row.team}"
    if row.team == "0":
        text = "team indicator 0: team surgeons are not permitted for this procedure"
        return _add(terms, Adjustment("team_surgery", "66", None, "fee schedule amount",
                                      text, cite), paid=False)  # fmt: skip
    if row.team not in ("1", "2"):
        raise Unprocessable(
            f"{row.hcpcs}-66: team indicator {row.team or 'blank'}: the team-surgery "
            "concept does not apply to this code",
            field="modifiers",
        )
    need = "with documentation of the medical necessity of a team, " if row.team == "1" else ""
    text = (
        f"team indicator {row.team}: team surgeons are paid {need}by report: the MAC sets "
        "the amount from the operative report, so this service does not price the line"
    )
    return _add(terms, Adjustment("team_surgery", "66", None, "fee schedule amount", text,
                                  cite), by_report=True, ranked=False)  # fmt: skip


# -- global surgery split ------------------------------------------------------------------------

_SPLIT_WORDS = {
    "54": "surgical care only (54): the preoperative and intraoperative shares",
    "55": "postoperative management only (55): the postoperative share",
    "56": "preoperative management only (56): the preoperative share",
}


def _split(row: RvuRow, mods: Modifiers, terms: LineTerms) -> LineTerms:
    modifier = mods.split
    if modifier is None:
        return terms
    share = _split_share(row, modifier)
    if row.pre_op + row.intra_op + row.post_op == 0:
        raise Unprocessable(
            f"{row.hcpcs}-{modifier}: global period {row.global_days}: the code has no "
            "pre/intra/postoperative shares; 54, 55 and 56 apply to 010 and 090 codes",
            field="modifiers",
        )
    text = (
        f"global surgery split, {_SPLIT_WORDS[modifier]}: pre {row.pre_op}, intra "
        f"{row.intra_op}, post {row.post_op} of the global package; paid {share * 100}%"
    )
    adjustment = Adjustment("global_split", modifier, share * 100, "fee schedule amount",
                            text, CITE_SPLIT)  # fmt: skip
    # Post- or preoperative management alone is not a procedure on the day: not ranked.
    ranked = terms.ranked and modifier == "54"
    return _add(terms, adjustment, factor=terms.factor * share, shares=(*terms.shares, share),
                ranked=ranked)  # fmt: skip


def _split_share(row: RvuRow, modifier: str) -> Decimal:
    if modifier == "54":
        return row.pre_op + row.intra_op
    return row.post_op if modifier == "55" else row.pre_op


def _modifier_51(row: RvuRow, mods: Modifiers, terms: LineTerms) -> LineTerms:
    if "51" not in mods.payment:
        return terms
    if row.mult_proc in ("0", "9"):
        return _note(
            terms,
            f"modifier 51 has no effect: multiple procedure indicator {row.mult_proc} "
            f"({CITE_MULTIPLE}) means no multiple procedure reduction applies to {row.hcpcs}.",
        )
    return _note(
        terms,
        "modifier 51 marks a multiple procedure; the reduction follows the ranking by fee "
        "schedule amount, not the modifier, so it is shown where the ranking puts it.",
    )
