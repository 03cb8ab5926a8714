"""Warden: policy decisions in-process (Engine) or from the decision server (Client).

    import warden

    engine = warden.Engine("payments.wdnb",
                           data={"sanctioned_countries": ["KP"], "blocked_networks": []})
    decision = engine.decide({"subject": {...}, "action": "read", "resource": {...}})
    decision["decision"]  # "permit", "deny", "step_up" or "not_applicable"

    with warden.Client("/run/warden.sock") as client:
        decision = client.decide({...})

See docs/bindings.md.
"""

from .errors import ServerError, WardenError
from ._warden import Engine, __version__
from .client import Client

__all__ = ["Client", "Engine", "ServerError", "WardenError", "__version__"]
