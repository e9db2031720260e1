"""Server addresses in messages: never a user name or password."""

import urllib.parse

__all__ = ["public_url"]


def public_url(url: str) -> str:
    """Return ``url`` without any user name or password in it, for messages."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
