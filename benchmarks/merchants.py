"""The merchants card purchases are made at: 60 places × 50 kinds of business = 3,000 names.

Each kind of business belongs to one spend category and has a typical price range, so a
purchase's account and size follow from where it was made. Only categories a prepaid card
pays for appear (staff pay, insurance and the like are paid from the bank account).
"""

from __future__ import annotations

from typing import NamedTuple

PLACES = (
    "Plymouth", "Exeter", "Torquay", "Paignton", "Barnstaple", "Bideford", "Tavistock", "Okehampton",
    "Newton Abbot", "Totnes", "Dartmouth", "Brixham", "Exmouth", "Sidmouth", "Honiton", "Tiverton",
    "Crediton", "Ivybridge", "Kingsbridge", "Salcombe", "Teignmouth", "Dawlish", "Ilfracombe", "Holsworthy",
    "Launceston", "Bodmin", "Liskeard", "Saltash", "Torpoint", "Looe", "Fowey", "St Austell",
    "Truro", "Falmouth", "Penzance", "St Ives", "Camborne", "Redruth", "Newquay", "Wadebridge",
    "Padstow", "Bude", "Callington", "Lostwithiel", "Helston", "Hayle", "Yelverton", "Plympton",
    "Plymstock", "Stoke", "Mutley", "Devonport", "Stonehouse", "Crownhill", "Roborough", "Estover",
    "Buckfastleigh", "Ashburton", "Chudleigh", "Moretonhampstead",
)  # fmt: skip


class BusinessKind(NamedTuple):
    name: str
    category: str
    low_pence: int
    high_pence: int


BUSINESS_KINDS = (
    BusinessKind("Leisure Centre", "exercise", 350, 1_200),
    BusinessKind("Swimming Pool", "exercise", 300, 900),
    BusinessKind("Climbing Wall", "exercise", 800, 1_800),
    BusinessKind("Gym", "exercise", 500, 3_500),
    BusinessKind("Yoga Studio", "exercise", 600, 1_500),
    BusinessKind("Bowls Club", "exercise", 300, 800),
    BusinessKind("Taxis", "transport", 700, 3_500),
    BusinessKind("Cabs", "transport", 600, 2_800),
    BusinessKind("Bus Station", "transport", 200, 700),
    BusinessKind("Railway Station", "transport", 450, 4_500),
    BusinessKind("Car Park", "transport", 150, 900),
    BusinessKind("Community Transport", "transport", 300, 1_200),
    BusinessKind("Petrol Station", "transport", 1_500, 6_000),
    BusinessKind("Cinema", "activities", 650, 1_800),
    BusinessKind("Bowling Alley", "activities", 800, 2_200),
    BusinessKind("Community Cafe", "activities", 250, 1_200),
    BusinessKind("Garden Centre", "activities", 400, 2_500),
    BusinessKind("Aquarium", "activities", 1_200, 2_400),
    BusinessKind("Zoo", "activities", 1_400, 2_600),
    BusinessKind("Museum", "activities", 300, 1_200),
    BusinessKind("Theatre", "activities", 1_200, 4_000),
    BusinessKind("Music Venue", "activities", 1_000, 3_500),
    BusinessKind("Farm Park", "activities", 800, 1_800),
    BusinessKind("Pottery Cafe", "activities", 900, 2_500),
    BusinessKind("Art Supplies", "activities", 300, 2_000),
    BusinessKind("Mobility Shop", "equipment", 1_500, 12_000),
    BusinessKind("Hardware", "equipment", 300, 4_000),
    BusinessKind("Home Store", "equipment", 500, 6_000),
    BusinessKind("Sensory Toys", "equipment", 800, 5_000),
    BusinessKind("Sports Shop", "equipment", 1_000, 6_000),
    BusinessKind("Computer Shop", "assistive_technology", 1_500, 15_000),
    BusinessKind("Phone Shop", "assistive_technology", 1_000, 8_000),
    BusinessKind("Electronics", "assistive_technology", 800, 9_000),
    BusinessKind("Physiotherapy", "therapies", 3_500, 6_000),
    BusinessKind("Massage Clinic", "therapies", 3_000, 5_500),
    BusinessKind("Hydrotherapy Pool", "therapies", 2_000, 4_500),
    BusinessKind("Music Therapy", "therapies", 2_500, 5_000),
    BusinessKind("Reflexology", "therapies", 2_500, 4_500),
    BusinessKind("Aromatherapy", "therapies", 2_500, 4_500),
    BusinessKind("Counselling Service", "counselling", 3_500, 6_500),
    BusinessKind("Wellbeing Centre", "counselling", 2_000, 5_000),
    BusinessKind("Talking Therapies", "counselling", 3_000, 6_000),
    BusinessKind("College", "training", 1_000, 6_000),
    BusinessKind("Cookery School", "training", 1_500, 4_500),
    BusinessKind("Driving School", "training", 2_800, 4_000),
    BusinessKind("Adult Learning", "training", 500, 3_000),
    BusinessKind("Holiday Cottages", "short_breaks", 5_000, 20_000),
    BusinessKind("Respite Lodge", "short_breaks", 6_000, 18_000),
    BusinessKind("Caravan Park", "short_breaks", 3_000, 12_000),
    BusinessKind("Guest House", "short_breaks", 4_000, 11_000),
)


class Merchant(NamedTuple):
    name: str
    category: str
    low_pence: int
    high_pence: int


def merchants() -> list[Merchant]:
    """All 3,000 merchants, in a fixed order."""
    return [Merchant(f"{place} {kind.name}", kind.category, kind.low_pence, kind.high_pence)
            for place in PLACES for kind in BUSINESS_KINDS]  # fmt: skip


CARD_CATEGORIES = tuple(sorted({kind.category for kind in BUSINESS_KINDS}))
"""The spend categories card purchases land in (and so the lines every plan has)."""
