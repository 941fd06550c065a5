"""Simple pictures for easy-read letters: one idea each, drawn in NHS blue on white with a
few plain shapes, 96 × 96. Inline SVG, so they print in the PDF as they show on screen.
A plan category has a picture (``picture_for_category``); anything else uses ``money``."""

from __future__ import annotations

BLUE = "#005eb8"
YELLOW = "#ffb81c"
_OPEN = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96" width="96" height="96" fill="none" stroke="{BLUE}" stroke-width="5" stroke-linecap="round" stroke-linejoin="round">'

_SHAPES = {
    "money": f'<circle cx="48" cy="48" r="38" fill="{YELLOW}"/><path d="M58 30c-3-4-8-5-12-3-5 2-6 8-5 14l2 14c1 5-2 9-7 11h26M34 50h20"/>',
    "card": '<rect x="8" y="22" width="80" height="52" rx="8"/><path d="M8 38h80"/><path d="M20 60h22"/>',
    "calendar": '<rect x="12" y="18" width="72" height="66" rx="6"/><path d="M12 36h72M30 10v16M66 10v16"/><path d="M28 52h10M44 52h10M60 52h10M28 68h10M44 68h10"/>',
    "home": '<path d="M10 48 48 14l38 34"/><path d="M20 40v44h56V40"/><path d="M40 84V62h16v22"/>',
    "person": '<circle cx="48" cy="28" r="16"/><path d="M16 88c0-20 14-34 32-34s32 14 32 34"/>',
    "people": '<circle cx="32" cy="30" r="13"/><circle cx="66" cy="30" r="13"/><path d="M8 84c0-17 10-29 24-29s24 12 24 29"/><path d="M50 60c4-4 9-5 16-5 14 0 24 12 24 29"/>',
    "phone": '<path d="M22 10h18l6 20-10 7c5 11 12 18 23 23l7-10 20 6v18c0 7-6 12-13 12C42 84 12 54 10 23c0-7 5-13 12-13z"/>',
    "bag": '<path d="M16 34h64l-6 52H22z"/><path d="M34 34v-8a14 14 0 0 1 28 0v8"/>',
    "bus": '<rect x="14" y="12" width="68" height="62" rx="10"/><path d="M14 44h68M14 28h68"/><circle cx="30" cy="60" r="5"/><circle cx="66" cy="60" r="5"/><path d="M24 74v10M72 74v10"/>',
    "star": f'<path d="M48 8l12 25 27 4-20 19 5 27-24-13-24 13 5-27L9 37l27-4z" fill="{YELLOW}"/>',
    "tools": '<rect x="10" y="36" width="76" height="46" rx="6"/><path d="M34 36v-10h28v10M10 54h76"/><path d="M44 54v8h8v-8"/>',
    "heart": '<path d="M48 84S10 60 10 34c0-12 9-22 21-22 8 0 14 4 17 11 3-7 9-11 17-11 12 0 21 10 21 22 0 26-38 50-38 50z"/>',
    "sun": f'<circle cx="48" cy="48" r="18" fill="{YELLOW}"/><path d="M48 8v12M48 76v12M8 48h12M76 48h12M20 20l8 8M68 68l8 8M20 76l8-8M68 28l8-8"/>',
    "question": '<circle cx="48" cy="48" r="38"/><path d="M36 38c0-8 6-13 12-13s12 4 12 11c0 10-12 10-12 20"/><circle cx="48" cy="70" r="2"/>',
    "pen": '<path d="M64 12l20 20-46 46-24 6 6-24z"/><path d="M56 20l20 20"/>',
    "shield": '<path d="M48 8l34 12v24c0 22-14 38-34 46C28 82 14 66 14 44V20z"/><path d="M48 30v28M34 44h28"/>',
    "clock": '<circle cx="48" cy="48" r="38"/><path d="M48 22v26l16 10"/>',
    "letter": '<rect x="10" y="20" width="76" height="56" rx="6"/><path d="M10 24l38 28 38-28"/>',
    "book": '<path d="M48 22c-10-8-24-10-38-8v62c14-2 28 0 38 8 10-8 24-10 38-8V14c-14-2-28 0-38 8z"/><path d="M48 22v62"/>',
    "bed": '<path d="M8 30v50M8 64h80v16M8 50h80v14"/><circle cx="24" cy="42" r="8"/>',
}

CATEGORY_PICTURES = {
    "staff_pay": "people",
    "agency_support": "people",
    "activities": "star",
    "equipment": "tools",
    "assistive_technology": "phone",
    "transport": "bus",
    "short_breaks": "sun",
    "therapies": "heart",
    "counselling": "heart",
    "exercise": "star",
    "training": "book",
    "accommodation_contribution": "home",
    "insurance": "shield",
    "payroll_account_fees": "money",
    "brokerage_support_planning": "pen",
    "transition": "home",
}


def picture_svg(name: str) -> str:
    """The picture's SVG; an unknown name draws the money picture."""
    return _OPEN + _SHAPES.get(name, _SHAPES["money"]) + "</svg>"


def picture_for_category(code: str) -> str:
    return CATEGORY_PICTURES.get(code, "bag")


NAMES = tuple(sorted(_SHAPES))
