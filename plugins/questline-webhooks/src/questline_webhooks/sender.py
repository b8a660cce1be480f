"""One signed POST per Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature`."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import aiohttp
from standardwebhooks import Webhook

from questline_webhooks import __version__
from questline_webhooks.store import Outcome

USER_AGENT = f"questline-webhooks/{__version__}"


def signed_headers(secret: str, message_id: str, body: str) -> dict[str, str]:
    """The headers of a message signed now with `secret` (HMAC-SHA256, `v1,` scheme)."""
    now = datetime.now(UTC)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }


async def post(
    http: aiohttp.ClientSession,
    url: str,
    secret: str,
    *,
    message_id: str,
    body: str,
    time_limit: float,
) -> Outcome:
    """POST `body` to `url`; any answer, timeout or connection error becomes an Outcome."""
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        async with http.post(
            url,
            data=body.encode(),
            headers=signed_headers(secret, message_id, body),
            timeout=aiohttp.ClientTimeout(total=time_limit),
            allow_redirects=False,
        ) as response:
            await response.read()
            return Outcome(response.status, None, elapsed())
    except TimeoutError:
        return Outcome(None, f"timed out after {time_limit:g}s", elapsed())
    except aiohttp.ClientError as error:
        return Outcome(None, f"{type(error).__name__}: {error}", elapsed())
