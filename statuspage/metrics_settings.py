"""Who may read `/metrics`: the config's `metrics:` section.

Kept apart from `statuspage.web.metrics` (which re-exports it) so that
`statuspage.config` can refer to it without importing the web package,
which imports the config.
"""

from __future__ import annotations

import hmac
import ipaddress

from pydantic import Field, IPvAnyNetwork, SecretStr

from statuspage.checks.base import StrictModel


class BasicAuth(StrictModel):
    username: str = Field(min_length=1)
    password: SecretStr = Field(min_length=1)


class MetricsSettings(StrictModel):
    """Who may read `/metrics`. Empty (the default): everyone."""

    basic_auth: BasicAuth | None = None
    # Client networks allowed to scrape (`10.0.0.0/8`, `::1`); empty: any.
    allow: list[IPvAnyNetwork] = Field(default_factory=list)

    def allows_address(self, address: str | None) -> bool:
        if not self.allow:
            return True
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.allow)

    def accepts_credentials(self, username: str | None, password: str | None) -> bool:
        if self.basic_auth is None:
            return True
        expected = self.basic_auth
        # Both compared every time, in constant time: no early exit on the name.
        name_ok = hmac.compare_digest((username or "").encode(), expected.username.encode())
        password_ok = hmac.compare_digest(
            (password or "").encode(), expected.password.get_secret_value().encode()
        )
        return name_ok and password_ok
