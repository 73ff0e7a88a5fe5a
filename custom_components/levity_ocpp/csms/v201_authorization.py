"""OCPP 2.0.1 IdTokenInfo from the version-neutral id tag rules (authorization.py)."""

from __future__ import annotations

from typing import Any

from ocpp.v201.enums import AuthorizationStatusEnumType, IdTokenEnumType

from .authorization import Authorization, TagStatus
from .timestamps import format_timestamp

# The five statuses the rules give exist in 2.0.1 under the same names.
STATUS: dict[TagStatus, AuthorizationStatusEnumType] = {
    TagStatus.ACCEPTED: AuthorizationStatusEnumType.accepted,
    TagStatus.BLOCKED: AuthorizationStatusEnumType.blocked,
    TagStatus.EXPIRED: AuthorizationStatusEnumType.expired,
    TagStatus.INVALID: AuthorizationStatusEnumType.invalid,
    TagStatus.CONCURRENT_TX: AuthorizationStatusEnumType.concurrent_tx,
}


def id_token_info(authorization: Authorization) -> dict[str, Any]:
    """The IdTokenInfo answering an id token: status, cache expiry and group."""
    info: dict[str, Any] = {"status": STATUS[authorization.status]}
    if authorization.expiry is not None:
        info["cache_expiry_date_time"] = format_timestamp(authorization.expiry)
    if authorization.parent_id_tag is not None:
        # The group is the user's parent id tag: a token of the central system's own.
        info["group_id_token"] = {
            "id_token": authorization.parent_id_tag,
            "type": IdTokenEnumType.central,
        }
    return info
