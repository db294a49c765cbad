"""An app and its state are freed once nobody holds them (tests make hundreds of apps).

The offload registry (``service/offload.py``) maps a state to its offload weakly both
ways: a strong value, which holds the state, kept every state and its snapshot alive.
"""

from __future__ import annotations

import gc
import weakref

import fastapi.dependencies.models as fastapi_dependencies

from cms_pricing.api.app import create_app
from cms_pricing.config import Settings
from cms_pricing.service.offload import warmth_of
from cms_pricing.service.state import ServiceState


def test_a_dropped_app_frees_its_state(settings: Settings) -> None:
    state = ServiceState(settings)
    app = create_app(settings, state)
    assert settings.expensive_processes > 0  # so the offload registers its state
    assert warmth_of(state) != "off"
    freed = weakref.ref(state)
    del state, app
    for value in vars(fastapi_dependencies).values():  # as tests/conftest.py does
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()
    gc.collect()
    assert freed() is None
