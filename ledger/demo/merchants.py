"""Where the demo's prepaid cards are used: merchants by spend category, with the Merchant
Category Code a card statement would carry and a typical price range in pence.

Names are of the kind a card statement in Plymouth, Devon or Cornwall shows; prices are
illustrative. ``refundable`` merchants are the ones a purchase is sometimes returned to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Merchant:
    name: str
    merchant_category_code: int
    low_pence: int
    high_pence: int
    refundable: bool = False


MERCHANTS: dict[str, tuple[Merchant, ...]] = {
    "activities": (
        Merchant("Dartmoor Zoo", 7998, 1_250, 3_400),
        Merchant("National Marine Aquarium Plymouth", 7998, 1_600, 4_200),
        Merchant("Odeon Plymouth", 7832, 790, 2_100, refundable=True),
        Merchant("Hollywood Bowl Plymouth", 7933, 950, 2_800),
        Merchant("Plymouth Argyle ticket office", 7941, 1_800, 3_200),
        Merchant("Eden Project", 7991, 2_250, 4_800),
        Merchant("Costa Coffee Drake Circus", 5814, 320, 980),
        Merchant("Mount Edgcumbe tea room", 5812, 650, 1_900),
        Merchant("Hobbycraft Plymouth", 5945, 600, 3_500, refundable=True),
    ),
    "transport": (
        Merchant("Plymouth Citybus", 4131, 250, 750),
        Merchant("Stagecoach South West", 4131, 300, 1_150),
        Merchant("Great Western Railway", 4112, 950, 4_800, refundable=True),
        Merchant("Need-a-Cab Plymouth", 4121, 850, 2_600),
        Merchant("Tamar Crossings (bridge and ferry)", 4784, 200, 400),
    ),
    "exercise": (
        Merchant("Plymouth Life Centre", 7997, 450, 950),
        Merchant("PureGym Plymouth Alexandra Road", 7997, 2_199, 2_499),
        Merchant("Mayflower Climbing Wall", 7997, 900, 1_600),
    ),
    "equipment": (
        Merchant("Argos", 5311, 1_000, 8_500, refundable=True),
        Merchant("Amazon UK Marketplace", 5942, 800, 6_000, refundable=True),
        Merchant("Dunelm Plymouth", 5719, 1_200, 5_500, refundable=True),
        Merchant("B&Q Plymouth", 5200, 900, 4_500, refundable=True),
    ),
    "assistive_technology": (
        Merchant("Currys Plymouth", 5732, 2_500, 14_900, refundable=True),
        Merchant("Amazon UK Marketplace", 5942, 1_500, 8_000, refundable=True),
    ),
    "therapies": (
        Merchant("Tamar Hydrotherapy Pool", 8099, 2_800, 4_500),
        Merchant("Saltash Music Therapy", 8099, 3_000, 4_500),
        Merchant("Riding for the Disabled, Cornwall", 8099, 2_500, 3_800),
    ),
    "short_breaks": (
        Merchant("Premier Inn Plymouth City Centre", 7011, 5_500, 11_900),
        Merchant("YHA Dartmoor", 7011, 3_200, 8_000),
    ),
    "training": (Merchant("City College Plymouth", 8220, 2_500, 9_000),),
    "holidays": (
        Merchant("Haven Perran Sands", 7033, 15_000, 42_000),
        Merchant("Great Western Railway", 4112, 2_400, 6_800),
    ),
    "counselling": (Merchant("Waves Counselling CIC", 8099, 4_000, 5_500),),
    "agency_support": (Merchant("Harbourside Care (card payment)", 8099, 2_200, 9_000),),
}

FALLBACK = (Merchant("Amazon UK Marketplace", 5942, 800, 4_000, refundable=True),)


def merchants_for(category: str) -> tuple[Merchant, ...]:
    return MERCHANTS.get(category, FALLBACK)
