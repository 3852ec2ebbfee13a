"""Client of the e-license library / data-sharing service (电子证照库、共享数据).

Contract (the simulator in ``simulators/elicense.py`` speaks it; production is
the same code pointed at the provincial service, see docs/elicense-api.md):

    GET {base}/v1/people/{id_card}?sources=identity,household,…
    GET {base}/v1/entities/{uscc}?sources=business,…      (a legal person)
        Authorization: Bearer <key>
        X-Consent-Id: <the conversation's consent record>
    200 {"key", "records": {source: {attribute: value}}, "licenses": [name…],
         "false_commitment": bool}
    404 the service holds nothing on this person
    401/403 bad key or consent; 5xx, timeouts: the service is down

Anything but 200/404 raises ``SharedDataUnavailable``: the form then simply
asks for everything.
"""

from __future__ import annotations

import logging

import aiohttp

from bot.shared_data import SharedDataUnavailable, SharedRecord

log = logging.getLogger(__name__)


class ElicenseClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 3.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def lookup(self, key: str, sources: set[str], consent_id: str, kind: str = "person") -> SharedRecord | None:
        """``kind`` person: ``key`` is an ID number; entity: a unified social credit code."""
        url = f"{self.base_url}/v1/{'people' if kind == 'person' else 'entities'}/{key}"
        headers = {"Authorization": f"Bearer {self.api_key}", "X-Consent-Id": consent_id}
        try:
            async with self._http().get(url, params={"sources": ",".join(sorted(sources))}, headers=headers) as resp:
                if resp.status == 404:
                    return None
                if resp.status != 200:
                    raise SharedDataUnavailable(f"HTTP {resp.status}")
                body = await resp.json()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SharedDataUnavailable(str(exc) or type(exc).__name__) from exc
        return SharedRecord(
            records={k: dict(v) for k, v in (body.get("records") or {}).items()},
            licenses=frozenset(body.get("licenses") or []),
            false_commitment=bool(body.get("false_commitment")),
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
