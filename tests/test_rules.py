"""The shipped rule data and the pure rule engine: merchant keys, spend checks, categories."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.vocabulary import STANDARD_CATEGORIES
from ledger.errors import InvalidInput
from ledger.rules import (
    SPEND_CHECK_CODES,
    CategoryHit,
    SpendCheckHit,
    load_category_rules,
    load_spend_checks,
    merchant_key,
    shipped_category_rules,
    shipped_category_rules_text,
    shipped_spend_checks,
    shipped_spend_checks_text,
)

CATEGORIES = [code for code, _, _ in STANDARD_CATEGORIES]
URL = re.compile(r"https?://\S+")


def codes(mcc: str | None, merchant: str = "") -> set[tuple[str, str]]:
    return {(hit.code, hit.severity) for hit in shipped_spend_checks().check(mcc, merchant)}


def category(mcc: str | None, merchant: str) -> str | None:
    hit = shipped_category_rules().categorise(mcc, merchant)
    return hit.category if hit else None


# --- merchant keys -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("TESCO STORES 3297 PLYMOUTH", "tesco stores plymouth"),
        ("PAYPAL *BET365", "paypal bet365"),
        ("Wm Hill*Online", "wm hill online"),
        ("CARD PAYMENT TO Wm Hill*Online ON 12 JAN", "wm hill online"),
        ("POS 12/01/2024 14:32 COSTA COFFEE 43012", "costa coffee"),
        ("VIS CONTACTLESS GREGGS PLC 12JAN24", "greggs plc"),
        ("Sainsbury\u2019s S/MKT 0123", "sainsburys s mkt"),
        ("SAINSBURY'S S/MKT", "sainsburys s mkt"),
        ("Caf\u00e9 Nero", "cafe nero"),
        ("M&S Simply Food", "m and s simply food"),
        ("WWW.CORAL.CO.UK", "coral co uk"),
        ("card payment", "card payment"),  # a line that is all noise keeps its words
        ("12/01/2024 1234", ""),
        ("", ""),
    ],
)
def test_merchant_key_keeps_the_merchants_own_words(text: str, key: str) -> None:
    assert merchant_key(text) == key


@given(st.text())
def test_merchant_key_is_a_fixed_point_and_never_raises(text: str) -> None:
    key = merchant_key(text)
    assert merchant_key(key) == key
    assert key == " ".join(key.split())
    assert re.fullmatch(r"[a-z0-9 ]*", key)


NOISY_WORDS = ["card", "payment", "to", "on", "pos", "vis", "12", "jan", "12jan24", "may", "tesco", "*", "/", "2024"]


@given(st.lists(st.sampled_from(NOISY_WORDS), max_size=8))
def test_merchant_key_is_a_fixed_point_on_noise_heavy_lines(words: list[str]) -> None:
    key = merchant_key(" ".join(words))
    assert merchant_key(key) == key


# --- the shipped spend checks --------------------------------------------------------------


def test_every_shipped_entry_cites_a_source_and_gives_a_reason() -> None:
    document = json.loads(shipped_spend_checks_text())
    for entry in [*document["mcc"], *document["merchants"]]:
        assert entry["source"].strip(), entry["id"]
        assert entry["reason"].strip(), entry["id"]
    for entry in [*json.loads(shipped_category_rules_text())["mcc"], *json.loads(shipped_category_rules_text())["merchants"]]:
        assert entry["source"].strip(), entry["id"]


def test_every_shipped_source_is_a_url_a_named_file_or_says_it_is_knowledge() -> None:
    for text in (shipped_spend_checks_text(), shipped_category_rules_text()):
        document = json.loads(text)
        for entry in [*document["mcc"], *document["merchants"]]:
            source = entry["source"]
            assert URL.search(source) or "greggles" in source or "knowledge, unverified" in source or "our decision" in source, entry["id"]


EXCLUDED = ["7995", "7800", "7801", "7802", "9406", "5921", "5993", "6051", "4829", "6012", "7273", "7297", "5933", "7322"]
EXCLUDED += [str(code) for code in range(6529, 6535)]


@pytest.mark.parametrize("mcc", EXCLUDED)
def test_codes_that_sell_little_but_excluded_goods_are_excluded(mcc: str) -> None:
    assert codes(mcc, "ANY MERCHANT") == {("EXCLUDED_MCC", "high")}


@pytest.mark.parametrize("mcc", ["5813", "7298", "8011", "8021", "8043", "8062"])
def test_venues_ask_for_an_explanation(mcc: str) -> None:
    assert codes(mcc, "ANY MERCHANT") == {("CHECK_VENUE", "low")}


@pytest.mark.parametrize("mcc", ["8011", "8021", "8043", "8062"])
def test_medical_codes_explain_that_private_therapy_may_be_fine(mcc: str) -> None:
    (hit,) = shipped_spend_checks().check(mcc, "")
    assert "NHS primary care" in hit.reason and "private therapy may be fine" in hit.reason


@pytest.mark.parametrize("mcc", ["6010", "6011"])
def test_cash_codes_are_cash_withdrawals(mcc: str) -> None:
    assert codes(mcc, "LINK ATM") == {("CASH_WITHDRAWAL", "medium")}


@pytest.mark.parametrize("mcc", ["7800", "7801", "7802", "9406"])
def test_the_newer_gambling_codes_say_what_the_entry_rests_on(mcc: str) -> None:
    rule = next(r for r in shipped_spend_checks().mcc_rules if r.mcc_from == mcc)
    assert "greggles" in rule.source and "unverified" in rule.source
    assert "Mastercard" in rule.source and "Visa" in rule.source


@pytest.mark.parametrize("mcc", ["5411", "5499", "5912", "4121", "7997", "8099", None, ""])
def test_ordinary_codes_raise_nothing(mcc: str | None) -> None:
    assert codes(mcc, "TESCO STORES 3297") == set()


def test_a_line_with_an_mcc_is_judged_by_its_mcc_alone() -> None:
    assert codes("5411", "WILLIAM HILL 1234") == set()
    assert codes(None, "WILLIAM HILL 1234") == {("EXCLUDED_MERCHANT", "high")}
    assert codes("7995", "TESCO STORES") == {("EXCLUDED_MCC", "high")}


def test_a_hit_names_its_rule_and_the_rule_sets_version() -> None:
    (hit,) = shipped_spend_checks().check("7995", "")
    assert hit == SpendCheckHit("EXCLUDED_MCC", "high", "gambling-7995", "shipped:2026.1", hit.reason)


GAMBLING_DEBT_AND_DRINK_LINES = [
    "WILLIAM HILL 1234 LONDON", "WM HILL*ONLINE", "WILLIAMHILL.COM", "LADBROKES 0456 LEEDS", "CORAL RACING LTD 123",
    "WWW.CORAL.CO.UK", "PADDYPOWER.COM", "PADDY POWER 12JAN", "BETFAIR 0800 028 8000", "BETFRED 1578", "PAYPAL *BET365",
    "BET365 GIBRALTAR", "SKYBET.COM", "SKY BET LEEDS", "SKY VEGAS", "BETWAY LTD", "UNIBET", "888SPORT", "888CASINO.COM",
    "BETVICTOR GIBRALTAR", "BOYLESPORTS", "MATCHBOOK.COM", "SMARKETS", "NATIONAL LOTTERY", "CAMELOT UK LOTTERIES",
    "ALLWYN ENTERTAINMENT", "THE HEALTH LOTTERY", "PEOPLE'S POSTCODE LOTTERY", "EUROMILLIONS", "GALA BINGO 123",
    "MECCA BINGO", "TOMBOLA ARCADE", "ST LUKES HOSPICE LOTTERY", "BARGAIN BOOZE 123", "MAJESTIC WINE", "ODDBINS",
    "THRESHERS", "TOBACCONIST", "WONGA.COM", "QUICKQUID", "SUNNY.CO.UK", "LENDING STREAM", "MR LENDER",
    "PROVIDENT PERSONAL CREDIT", "MONEYBOAT", "LOWELL FINANCIAL LTD", "CABOT CREDIT MANAGEMENT", "INTRUM UK",
    "WESTERN UNION", "MONEYGRAM", "RIA MONEY TRANSFER",
]  # fmt: skip


@pytest.mark.parametrize("merchant", GAMBLING_DEBT_AND_DRINK_LINES)
def test_merchant_names_catch_bookmakers_lotteries_lenders_and_off_licences(merchant: str) -> None:
    assert codes(None, merchant) == {("EXCLUDED_MERCHANT", "high")}


ORDINARY_MERCHANTS = [
    "TESCO STORES 3297 PLYMOUTH", "SAINSBURY'S S/MKT", "ASDA SUPERSTORE", "MORRISONS 0123", "WAITROSE 456", "ALDI 78",
    "LIDL GB", "CO-OP FOOD", "ICELAND", "MARKS & SPENCER", "BOOTS 1234", "SUPERDRUG", "LLOYDS PHARMACY", "ARGOS LTD",
    "COSTA COFFEE 43012", "GREGGS PLC", "CAFFE NERO", "STARBUCKS", "PRET A MANGER", "MCDONALDS 123", "NANDOS",
    "TRAINLINE.COM", "STAGECOACH SOUTH WEST", "FIRST BUS", "PETS AT HOME", "SPECSAVERS OPTICIANS", "B&Q", "WICKES",
    "IKEA", "CURRYS", "JOHN LEWIS", "PRIMARK", "HALFORDS", "AMAZON.CO.UK", "PREMIER INN", "HOLIDAY INN",
    "CORAL REEF AQUARIUM", "CORAL ISLAND BLACKPOOL", "CABOT CIRCUS CAR PARK", "SKY DIGITAL", "SKY UK LTD",
    "888 SUSHI", "SUNNY DAYS NURSERY", "LADBROKE GROVE PHARMACY", "GALA THEATRE DURHAM", "LEAMINGTON SPA MUSEUM", "SALAD BAR", "PUBLIC LIBRARY",
    "RIALTO CINEMA", "ODEON CINEMAS", "PUREGYM", "UBER *TRIP", "VAPE SHOP",
]  # fmt: skip


@pytest.mark.parametrize("merchant", ORDINARY_MERCHANTS)
def test_ordinary_merchants_raise_nothing(merchant: str) -> None:
    assert codes(None, merchant) == set()


VENUES = ["JD WETHERSPOON 1234", "WETHERSPOONS", "GREENE KING", "THE RED LION PUB", "SLUG AND LETTUCE", "CASH CONVERTERS"]


@pytest.mark.parametrize("merchant", VENUES)
def test_pubs_and_cash_converters_ask_for_an_explanation(merchant: str) -> None:
    assert codes(None, merchant) == {("CHECK_VENUE", "low")}


@pytest.mark.parametrize("merchant", ["ATM TESCO EXPRESS 12JAN", "CASH WITHDRAWAL BARCLAYS", "LINK CASHPOINT"])
def test_cash_machine_lines_without_an_mcc_are_cash(merchant: str) -> None:
    assert codes(None, merchant) == {("CASH_WITHDRAWAL", "medium")}


@given(st.one_of(st.none(), st.text(max_size=6), st.integers()), st.one_of(st.text(), st.none()))
def test_checks_and_categories_never_raise(mcc: Any, merchant: Any) -> None:
    for hit in shipped_spend_checks().check(mcc, merchant):
        assert hit.code in SPEND_CHECK_CODES
    hit = shipped_category_rules().categorise(mcc, merchant)
    assert hit is None or hit.category in CATEGORIES


# --- the shipped category rules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("mcc", "merchant", "expected"),
    [
        ("4121", "STREAMLINE TAXIS", "transport"),
        ("5542", "SHELL 1234", "transport"),
        ("7997", "LOCAL SPORTS CLUB", "exercise"),
        ("7832", "RIALTO", "activities"),
        ("7011", "SEASIDE HOTEL", "short_breaks"),
        ("3504", "HILTON", "short_breaks"),
        ("8041", "SPINE CLINIC", "therapies"),
        ("5732", "CURRYS", "assistive_technology"),
        ("8299", "OPEN COLLEGE", "training"),
        ("6300", "INSURER", "insurance"),
        (None, "TRAINLINE.COM", "transport"),
        (None, "STAGECOACH SOUTH WEST", "transport"),
        (None, "UBER *TRIP HELP.UBER.COM", "transport"),
        (None, "PUREGYM PLYMOUTH", "exercise"),
        (None, "DAVID LLOYD CLUBS", "exercise"),
        (None, "ODEON CINEMAS", "activities"),
        (None, "NATIONAL TRUST", "activities"),
        (None, "COMPLETE CARE SHOP", "equipment"),
        (None, "PLYMOUTH PHYSIO LTD", "therapies"),
        (None, "ACORN COUNSELLING", "counselling"),
        ("5411", "PUREGYM", "exercise"),  # a merchant pattern beats the MCC
        ("5411", "TESCO STORES", None),  # groceries wait for a person
        ("5499", "CORNER SHOP", None),
        ("5912", "BOOTS", None),
        (None, "ARGOS", None),
        (None, "AMAZON.CO.UK", None),
        (None, "UBER *EATS", None),
        (None, "BELLE VUE", None),
    ],
)
def test_shipped_categories(mcc: str | None, merchant: str, expected: str | None) -> None:
    assert category(mcc, merchant) == expected


def test_a_category_hit_names_its_rule_and_version() -> None:
    assert shipped_category_rules().categorise(None, "ODEON") == CategoryHit("activities", "activities-cinemas", "shipped:2026.1")


# --- funders' copies and what the loader refuses --------------------------------------------


def test_a_funders_copy_of_the_shipped_text_is_the_same_rules_under_its_own_origin() -> None:
    copy = load_spend_checks(shipped_spend_checks_text(), origin="funder-7-v2")
    shipped = shipped_spend_checks()
    assert copy.rule_version == "funder-7-v2:2026.1"
    assert (copy.mcc_rules, copy.merchant_rules) == (shipped.mcc_rules, shipped.merchant_rules)
    assert copy.check("7995", "")[0].rule_version == "funder-7-v2:2026.1"


def spend_doc(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "Test checks",
        "version": "1",
        "mcc": [
            {"id": "a", "mcc": "7995", "code": "EXCLUDED_MCC", "severity": "high", "reason": "r", "source": "s"},
            {"id": "b", "mcc_from": "6529", "mcc_to": "6534", "code": "EXCLUDED_MCC", "severity": "high", "reason": "r", "source": "s"},
        ],
        "merchants": [
            {"id": "c", "patterns": ["william hill"], "code": "EXCLUDED_MERCHANT", "severity": "high", "reason": "r", "source": "s"}
        ],
    }
    document.update(changes)
    return document


def mcc_entry(**changes: Any) -> dict[str, Any]:
    return {"id": "x", "mcc": "5813", "code": "CHECK_VENUE", "severity": "low", "reason": "r", "source": "s", **changes}


def merchant_entry(**changes: Any) -> dict[str, Any]:
    return {"id": "y", "patterns": ["wetherspoon"], "code": "CHECK_VENUE", "severity": "low", "reason": "r", "source": "s", **changes}


def without(entry: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k != key}


BASE = spend_doc()
REFUSED = [
    (spend_doc(colour="red"), "colour"),
    (without(BASE, "merchants"), "merchants"),
    (spend_doc(version=""), "version"),
    (spend_doc(version=2026), "version"),
    (spend_doc(name=" "), "name"),
    (spend_doc(mcc="7995"), "mcc"),
    (spend_doc(mcc=[*BASE["mcc"], without(mcc_entry(), "source")]), "mcc[2].source"),
    (spend_doc(mcc=[*BASE["mcc"], mcc_entry(source="  ")]), "mcc[2].source"),
    (spend_doc(mcc=[*BASE["mcc"], mcc_entry(reason="")]), "mcc[2].reason"),
    (spend_doc(mcc=[*BASE["mcc"], mcc_entry(reason="line\nbreak")]), "mcc[2].reason"),
    (spend_doc(mcc=[mcc_entry(mcc=5813)]), "mcc[0].mcc"),
    (spend_doc(mcc=[mcc_entry(mcc="813")]), "mcc[0].mcc"),
    (spend_doc(mcc=[mcc_entry(mcc="\u0665\u0668\u0661\u0663")]), "mcc[0].mcc"),  # Arabic-Indic digits
    (spend_doc(mcc=[mcc_entry(mcc_from="6000")]), "mcc[0].mcc"),
    (spend_doc(mcc=[without(mcc_entry(mcc_from="6534", mcc_to="6529"), "mcc")]), "mcc[0].mcc_to"),
    (spend_doc(mcc=[without(mcc_entry(mcc_from="6529"), "mcc")]), "mcc[0].mcc_to"),
    (spend_doc(mcc=[mcc_entry(code="EXCLUDED_MERCHANT")]), "mcc[0].code"),
    (spend_doc(mcc=[mcc_entry(severity="urgent")]), "mcc[0].severity"),
    (spend_doc(mcc=[mcc_entry(colour="red")]), "mcc[0].colour"),
    (spend_doc(mcc=[mcc_entry(id="Bad Id")]), "mcc[0].id"),
    (spend_doc(mcc=[mcc_entry(), mcc_entry()]), "mcc[1].id"),
    (spend_doc(mcc=[mcc_entry(), mcc_entry(id="z")]), "mcc[1].mcc"),
    (spend_doc(merchants=[merchant_entry(id="a")]), "merchants[0].id"),
    (spend_doc(merchants=[merchant_entry(code="EXCLUDED_MCC")]), "merchants[0].code"),
    (spend_doc(merchants=[merchant_entry(patterns=[])]), "merchants[0].patterns"),
    (spend_doc(merchants=[merchant_entry(patterns="wetherspoon")]), "merchants[0].patterns"),
    (spend_doc(merchants=[merchant_entry(patterns=["pub", "888"])]), "merchants[0].patterns[1]"),
    (spend_doc(merchants=[merchant_entry(patterns=["***"])]), "merchants[0].patterns[0]"),
    (spend_doc(merchants=[merchant_entry(patterns=["tesco 3297"])]), "merchants[0].patterns[0]"),
    (spend_doc(merchants=[merchant_entry(patterns=["pos wetherspoon"])]), "merchants[0].patterns[0]"),
    (spend_doc(merchants=[merchant_entry(patterns=["a b c d e f"])]), "merchants[0].patterns[0]"),
    (spend_doc(merchants=[merchant_entry(patterns=["pub", "PUB"])]), "merchants[0].patterns[1]"),
    (spend_doc(merchants=[merchant_entry(), merchant_entry(id="z")]), "merchants[1].patterns[0]"),
]


@pytest.mark.parametrize(("document", "field"), REFUSED)
def test_the_loader_refuses_a_doubtful_entry_naming_the_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_spend_checks(json.dumps(document), origin="funder-1")
    assert (caught.value.code, caught.value.field) == ("rule_set_invalid", field)
    assert caught.value.message.startswith(field)


def test_a_refusal_names_the_entry_by_its_id() -> None:
    document = spend_doc(mcc=[*BASE["mcc"], mcc_entry(id="pubs", reason="")])
    with pytest.raises(InvalidInput, match=r"^mcc\[2\]\.reason \(pubs\): must be non-empty text"):
        load_spend_checks(json.dumps(document), origin="funder-1")


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[]", '"text"', '{"name": "a", "name": "b"}', '{"version": NaN}', "[" * 100_000, '{"x": ' + "1" * 5000 + "}"],
)
def test_text_that_is_not_one_json_object_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_spend_checks(text, origin="funder-1")
    assert (caught.value.code, caught.value.field) == ("rule_set_invalid", "$")


def test_a_rule_set_over_a_megabyte_is_refused_before_it_is_read() -> None:
    with pytest.raises(InvalidInput) as caught:
        load_spend_checks(json.dumps(spend_doc(description="x" * 1_000_001)), origin="funder-1")
    assert caught.value.code == "rule_set_too_large"


def test_a_category_must_be_one_the_caller_knows() -> None:
    document = {"name": "c", "version": "1", "mcc": [{"id": "a", "mcc": "4121", "category": "taxis", "source": "s"}], "merchants": []}
    with pytest.raises(InvalidInput) as caught:
        load_category_rules(json.dumps(document), origin="holder-1", categories=CATEGORIES)
    assert (caught.value.code, caught.value.field) == ("rule_set_invalid", "mcc[0].category")


def test_category_entries_need_a_source_but_no_reason() -> None:
    entry = {"id": "a", "mcc": "4121", "category": "transport"}
    document = {"name": "c", "version": "1", "mcc": [entry], "merchants": []}
    with pytest.raises(InvalidInput) as caught:
        load_category_rules(json.dumps(document), origin="holder-1", categories=CATEGORIES)
    assert caught.value.field == "mcc[0].source"
    document["mcc"] = [{**entry, "source": "s"}]
    assert load_category_rules(json.dumps(document), origin="h", categories=CATEGORIES).categorise("4121", "") is not None
    document["mcc"] = [{**entry, "source": "s", "reason": "r"}]
    with pytest.raises(InvalidInput, match="unknown key"):
        load_category_rules(json.dumps(document), origin="h", categories=CATEGORIES)


# --- which rule wins ---------------------------------------------------------------------------


def test_one_code_beats_a_range_and_a_narrow_range_a_wide_one() -> None:
    def rule(rule_id: str, code: str, first: str, last: str | None = None) -> dict[str, Any]:
        span = {"mcc_from": first, "mcc_to": last} if last else {"mcc": first}
        return {"id": rule_id, **span, "code": code, "severity": "high", "reason": "r", "source": "s"}

    rules = spend_doc(
        mcc=[
            rule("wide", "EXCLUDED_MCC", "6000", "6999"),
            rule("narrow", "EXCLUDED_MCC", "6529", "6534"),
            rule("one", "EXCLUDED_MCC", "6531"),
            rule("venue", "CHECK_VENUE", "6000", "6999"),
        ]
    )
    checks = load_spend_checks(json.dumps(rules), origin="t")
    assert [(h.code, h.rule_id) for h in checks.check("6531", "")] == [("EXCLUDED_MCC", "one"), ("CHECK_VENUE", "venue")]
    assert [h.rule_id for h in checks.check("6530", "")] == ["narrow", "venue"]
    assert [h.rule_id for h in checks.check("6100", "")] == ["wide", "venue"]
    assert checks.check("7000", "") == ()


def test_a_longer_pattern_beats_a_shorter_and_the_earlier_entry_a_tie() -> None:
    document = {
        "name": "c", "version": "1", "mcc": [{"id": "m", "mcc": "5411", "category": "equipment", "source": "s"}],
        "merchants": [
            {"id": "short", "patterns": ["care"], "category": "agency_support", "source": "s"},
            {"id": "long", "patterns": ["complete care shop"], "category": "equipment", "source": "s"},
            {"id": "first", "patterns": ["shop"], "category": "activities", "source": "s"},
            {"id": "second", "patterns": ["plymouth"], "category": "transport", "source": "s"},
        ],
    }  # fmt: skip
    rules = load_category_rules(json.dumps(document), origin="t", categories=CATEGORIES)
    assert rules.categorise(None, "COMPLETE CARE SHOP PLYMOUTH").rule_id == "long"  # type: ignore[union-attr]
    assert rules.categorise(None, "CORNER SHOP PLYMOUTH").rule_id == "first"  # type: ignore[union-attr]
    assert rules.categorise("5411", "CARE AT HOME").rule_id == "short"  # type: ignore[union-attr]
    assert rules.categorise("5411", "TESCO").rule_id == "m"  # type: ignore[union-attr]
    assert rules.categorise("5412", "TESCO") is None


# --- the matcher against an independent oracle -----------------------------------------------------

WORDS = ["bet", "hill", "wm", "sky", "coral", "reef", "pub", "inn", "the", "red"]


@st.composite
def pattern_rule_sets(draw: st.DrawFn) -> list[tuple[str, str, str]]:
    """(id, code, pattern) triples, each pattern 1-3 words, unique per code."""
    found: dict[tuple[str, str], str] = {}
    for index in range(draw(st.integers(0, 12))):
        code = draw(st.sampled_from(["EXCLUDED_MERCHANT", "CHECK_VENUE"]))
        pattern = " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3)))
        found.setdefault((code, pattern), f"r{index}")
    return [(rule_id, code, pattern) for (code, pattern), rule_id in found.items()]


def oracle_check(rules: list[tuple[str, str, str]], merchant: str) -> dict[str, str]:
    """For each code, the rule whose pattern appears as whole words in the key, most words
    first, then file order: by brute force over every rule."""
    key = f" {merchant_key(merchant)} "
    best: dict[str, tuple[int, int, str]] = {}
    for order, (rule_id, code, pattern) in enumerate(rules):
        if f" {pattern} " in key:
            rank = (-len(pattern.split()), order, rule_id)
            best[code] = min(best.get(code, rank), rank)
    return {code: rank[2] for code, rank in best.items()}


@settings(max_examples=300)
@given(pattern_rule_sets(), st.lists(st.sampled_from([*WORDS, "1234", "*", "pos"]), max_size=8))
def test_pattern_matching_agrees_with_a_brute_force_oracle(rules: list[tuple[str, str, str]], words: list[str]) -> None:
    entries = [
        {"id": rule_id, "patterns": [pattern], "code": code, "severity": "low", "reason": "r", "source": "s"}
        for rule_id, code, pattern in rules
    ]
    checks = load_spend_checks(json.dumps(spend_doc(mcc=[], merchants=entries)), origin="t")
    merchant = " ".join(words).upper()
    assert {hit.code: hit.rule_id for hit in checks.check(None, merchant)} == oracle_check(rules, merchant)


@settings(max_examples=300)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 5), st.sampled_from(["EXCLUDED_MCC", "CHECK_VENUE"])), max_size=10),
    st.integers(0, 70),
)
def test_mcc_matching_agrees_with_a_brute_force_oracle(spans: list[tuple[int, int, str]], mcc: int) -> None:
    kept: list[tuple[str, int, int, str]] = []
    for index, (first, width, code) in enumerate(spans):
        if width == 0 and any(f == first and l == first and c == code for _, f, l, c in kept):
            continue  # the loader refuses one code twice for the same outcome
        kept.append((f"r{index}", first, first + width, code))
    best: dict[str, tuple[int, int, str]] = {}
    for order, (rule_id, first, last, code) in enumerate(kept):
        if first <= mcc <= last:
            rank = (last - first, order, rule_id)
            best[code] = min(best.get(code, rank), rank)
    entries = [
        {"id": rule_id, **({"mcc": f"{first:04d}"} if first == last else {"mcc_from": f"{first:04d}", "mcc_to": f"{last:04d}"}),
         "code": code, "severity": "low", "reason": "r", "source": "s"}
        for rule_id, first, last, code in kept
    ]  # fmt: skip
    checks = load_spend_checks(json.dumps(spend_doc(mcc=entries, merchants=[])), origin="t")
    assert {hit.code: hit.rule_id for hit in checks.check(f"{mcc:04d}", "")} == {code: rank[2] for code, rank in best.items()}
