"""API: reviews (being built)"""

from __future__ import annotations

from fastapi import APIRouter

from web.api.common import ERROR_RESPONSES

router = APIRouter(tags=["reviews"], responses=ERROR_RESPONSES)
