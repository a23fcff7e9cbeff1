"""Mask credentials in any text runyard prints or stores: URL userinfo, secret query parameters, flags.

One function, `mask_secrets`, is used for error messages, CLI output, the captured command line and
the git remote tag. It errs on the side of masking too much: a display must never show a password.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://USERINFO@host: the userinfo runs to the last "@" before the first "/" after "://", so a
# raw "@" or a space in a password is masked whole (a URL without a path is masked up to its last "@").
_URL_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\n]*)@")

# password=..., ?token=..., &api_key=..., --token=..., MLFLOW_TRACKING_PASSWORD=...
_SECRET_NAME = r"[\w.-]*(?:password|passwd|pwd|token|secret|api[_-]?key|access[_-]?key|private[_-]?key)"
_SECRET_ASSIGNMENT = re.compile(
    rf"(?i)(?P<name>(?<![\w.-]){_SECRET_NAME}=)(?P<value>[^&\s#'\"]+?)(?=:?(?:[\s&#'\"]|$))"
)

# --password VALUE, --token VALUE (a flag whose value follows as the next word)
_SECRET_FLAG = re.compile(rf"(?i)(?P<flag>(?<![\w.-])--?{_SECRET_NAME}\s+)(?P<value>[^\s'\"-][^\s'\"]*)")

# Schemes whose bare userinfo (no ":") is a token rather than a user name: https://TOKEN@github.com/...
_TOKEN_SCHEMES = ("http", "https")


def _mask_userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match.group("scheme"), match.group("userinfo")
    if not userinfo:
        return match.group(0)
    user, colon, _password = userinfo.partition(":")
    if colon:
        return f"{scheme}{user}:{MASK}@"
    if scheme[:-3].lower().rsplit("+", 1)[-1] in _TOKEN_SCHEMES:
        return f"{scheme}{MASK}@"
    return match.group(0)  # postgresql://user@host: a user name without a password is no secret


def mask_secrets(text: str) -> str:
    """Text with every credential replaced by ***: URL passwords and tokens, password=/token= values."""
    if not text:
        return text
    text = _URL_USERINFO.sub(_mask_userinfo, text)
    text = _SECRET_ASSIGNMENT.sub(lambda m: f"{m.group('name')}{MASK}", text)
    return _SECRET_FLAG.sub(lambda m: f"{m.group('flag')}{MASK}", text)
