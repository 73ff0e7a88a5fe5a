"""Who may charge: the user's id tags, and the one set of rules every answer comes from.

Version-neutral. OCPP 1.6 answers Authorize, StartTransaction and StopTransaction
with an IdTagInfo (status, expiryDate, parentIdTag); OCPP 2.0.1 answers Authorize
and TransactionEvent with an IdTokenInfo carrying the same five statuses. Both ask
`Authorizer` and translate its `Authorization`:

- `check(charge_point_id, id_tag)`: the rules alone (a StopTransaction's idTag, or
  any question that is not a presentation).
- `authorize(charge_point, id_tag)`: a tag presented at a charger (Authorize):
  the rules, and the layer above is told (`hooks.id_tag_presented`).
- `authorize_start(charge_point, id_tag, transaction)`: a transaction started with
  the tag (StartTransaction; 2.0.1 TransactionEvent Started): the rules plus
  ConcurrentTx, the presentation unless this start followed one, and a flag on the
  session when the tag is refused.
- `remote_start(charge_point_id, id_tag)`: the central system itself asked for a
  start with this tag; the charger's Authorize / start for it is no presentation.

The rules (OCPP 1.6 §7.2, §7.27):
- The id tag Home Assistant starts sessions with is Accepted, always.
- A tag in the book: Blocked if it, or its group (parent id tag, followed as far as
  the book knows it), is blocked; Expired once its own or its group's expiry has
  passed; else Accepted. The answer carries the tag's expiry (the earliest along
  its group) and its parent id tag, so the charger's cache and list agree.
- A tag not in the book: Accepted at a charge point in `any_tag` mode, Invalid in
  `known_tags` mode.
- ConcurrentTx is an answer to a start only (the spec: "only relevant for a
  StartTransaction.req"); an Authorize may be someone stopping their session.
  At a `known_tags` charge point (one card, one person) a tag that already has
  an open transaction elsewhere in this central system is ConcurrentTx. Only
  transactions on connected charge points count: one a dead charger never
  stopped must not lock a card out for good. With `any_tag` (a home: one card
  for two cars, or a charger that starts every session with the same tag) a tag
  may charge in several places at once.

Id tags are compared as OCPP's CiString: case-insensitively (`tag_key`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .commands import LocalAuthorization
from .hooks import CentralSystemHooks
from .model import ChargePoint, utcnow
from .settings import AuthorizationMode, ChargePointSettings
from .transactions import Transaction, TransactionBook

# A tag presented (or remotely started) this recently at a charger, then used in
# its StartTransaction, is one presentation, not two. Chargers drop an
# authorization the car did not follow within ConnectionTimeOut (commonly 1-2 min).
PRESENTATION_WINDOW = timedelta(minutes=3)
# Presentations remembered for that, one per charge point: bounded whatever ids connect.
MAX_REMEMBERED = 256
# Groups nest rarely; a loop in the user's parent tags must not hang an answer.
MAX_GROUP_DEPTH = 8


class TagStatus(StrEnum):
    """The answer about an id tag (the values are OCPP's spelling, 1.6 and 2.0.1 alike)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


def tag_key(id_tag: str) -> str:
    """How id tags compare: OCPP's CiString is case-insensitive."""
    return id_tag.casefold()


@dataclass(frozen=True, slots=True)
class IdTag:
    """One id tag the user manages (an RFID card, an app token, or a group id)."""

    id_tag: str
    blocked: bool = False
    expiry: datetime | None = None  # timezone-aware; None: never expires
    parent_id_tag: str | None = None  # the group it belongs to


@dataclass(frozen=True, slots=True)
class Authorization:
    """The answer about one id tag; `tag` is the book's entry (None: not in the book)."""

    status: TagStatus
    expiry: datetime | None = None
    parent_id_tag: str | None = None
    tag: IdTag | None = None

    @property
    def accepted(self) -> bool:
        """Whether the tag may charge."""
        return self.status is TagStatus.ACCEPTED


class TagBook:
    """The id tags the user manages, looked up case-insensitively. Immutable."""

    __slots__ = ("_tags",)

    def __init__(self, tags: Iterable[IdTag] = ()) -> None:
        """Index `tags`; of two spellings of one tag the later wins."""
        self._tags = {tag_key(tag.id_tag): tag for tag in tags}

    def get(self, id_tag: str) -> IdTag | None:
        """The book's entry of a tag, however the charger spelled it."""
        return self._tags.get(tag_key(id_tag))

    def __contains__(self, id_tag: object) -> bool:
        """Whether a tag is in the book."""
        return isinstance(id_tag, str) and tag_key(id_tag) in self._tags

    def __iter__(self) -> Iterator[IdTag]:
        """The tags, in the order given."""
        return iter(self._tags.values())

    def __len__(self) -> int:
        """How many tags the book has."""
        return len(self._tags)

    def __eq__(self, other: object) -> bool:
        """Two books are equal when they hold the same tags."""
        return isinstance(other, TagBook) and self._tags == other._tags

    __hash__ = None  # type: ignore[assignment]  # equal by content, and never a key

    def status(self, tag: IdTag, now: datetime) -> Authorization:
        """A known tag's own standing: blocked, expired or accepted, with its group's."""
        expiry: datetime | None = None
        current: IdTag | None = tag
        seen: set[str] = set()
        while current is not None and len(seen) < MAX_GROUP_DEPTH:
            seen.add(tag_key(current.id_tag))
            if current.blocked:
                return Authorization(TagStatus.BLOCKED, tag.expiry, tag.parent_id_tag, tag)
            if current.expiry is not None and (expiry is None or current.expiry < expiry):
                expiry = current.expiry
            parent = current.parent_id_tag
            current = self.get(parent) if parent and tag_key(parent) not in seen else None
        if expiry is not None and expiry <= now:
            return Authorization(TagStatus.EXPIRED, expiry, tag.parent_id_tag, tag)
        return Authorization(TagStatus.ACCEPTED, expiry, tag.parent_id_tag, tag)

    def local_list(self, now: datetime) -> dict[str, LocalAuthorization]:
        """Every tag as a local authorization list entry, by `tag_key`."""
        entries: dict[str, LocalAuthorization] = {}
        for key, tag in self._tags.items():
            standing = self.status(tag, now)
            entries[key] = LocalAuthorization(
                tag.id_tag, standing.status.value, standing.expiry, standing.parent_id_tag
            )
        return entries


class Authorizer:
    """Answers, for each charge point, whether an id tag may charge there."""

    def __init__(
        self,
        *,
        settings_for: Callable[[str], ChargePointSettings],
        own_id_tag: str,
        transactions: Callable[[], TransactionBook],
        charge_points: Mapping[str, ChargePoint],
        hooks: CentralSystemHooks,
        tags: TagBook | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """Answer from `tags` (replaced live by the layer above) and each charger's mode.

        `transactions` returns the central system's book of open transactions (the
        book object may be replaced, so it is asked each time).
        """
        self.tags = tags or TagBook()
        self._settings_for = settings_for
        self._own = tag_key(own_id_tag)
        self._transactions = transactions
        self._charge_points = charge_points
        self._hooks = hooks
        self._clock = clock
        # Per charge point: the last tag presented or remotely started there, and when.
        self._recent: OrderedDict[str, tuple[str, datetime]] = OrderedDict()

    def check(self, charge_point_id: str, id_tag: str) -> Authorization:
        """The rules for `id_tag` at this charge point (without ConcurrentTx)."""
        if tag_key(id_tag) == self._own:
            return Authorization(TagStatus.ACCEPTED)
        if (tag := self.tags.get(id_tag)) is not None:
            return self.tags.status(tag, self._clock())
        if self._settings_for(charge_point_id).authorization is AuthorizationMode.KNOWN_TAGS:
            return Authorization(TagStatus.INVALID)
        return Authorization(TagStatus.ACCEPTED)

    def authorize(self, charge_point: ChargePoint, id_tag: str) -> Authorization:
        """A tag presented at a charger (Authorize): the rules, and the layer above told."""
        authorization = self.check(charge_point.id, id_tag)
        if tag_key(id_tag) == self._own:
            return authorization
        # The charger checking a tag we started it with (AuthorizeRemoteTxRequests) is
        # no card shown; the start that follows is not either. Either way it is used up.
        remote = self._remotely_started(charge_point.id, id_tag)
        self._remember(charge_point.id, id_tag)
        if not remote:
            self._hooks.id_tag_presented(charge_point, id_tag, authorization)
        return authorization

    def authorize_start(
        self, charge_point: ChargePoint, id_tag: str, transaction: Transaction
    ) -> Authorization:
        """A transaction began with `id_tag` (already recorded: the charger started it).

        A refused tag is answered so the charger ends the session (OCPP 1.6:
        StopTransactionOnInvalidId), and the session says why it was short.
        """
        authorization = self.check(charge_point.id, id_tag)
        if (
            authorization.accepted
            and tag_key(id_tag) != self._own
            and self._settings_for(charge_point.id).authorization is AuthorizationMode.KNOWN_TAGS
            and self._charging_elsewhere(id_tag, transaction)
        ):
            authorization = Authorization(
                TagStatus.CONCURRENT_TX,
                authorization.expiry,
                authorization.parent_id_tag,
                authorization.tag,
            )
        if tag_key(id_tag) != self._own and not self._just_presented(charge_point.id, id_tag):
            self._remember(charge_point.id, id_tag)
            self._hooks.id_tag_presented(charge_point, id_tag, authorization)
        if not authorization.accepted:
            transaction.flag(f"the id tag was answered {authorization.status.value} at the start")
            self._hooks.transactions_changed()
        return authorization

    def remote_start(self, charge_point_id: str, id_tag: str) -> None:
        """The central system asked this charger to start with `id_tag` (no card shown)."""
        self._remember(charge_point_id, id_tag, remote=True)

    def _charging_elsewhere(self, id_tag: str, transaction: Transaction) -> bool:
        key = tag_key(id_tag)
        for other in self._transactions().open.values():
            if other.transaction_id == transaction.transaction_id or tag_key(other.id_tag) != key:
                continue
            charge_point = self._charge_points.get(other.charge_point_id)
            if charge_point is not None and charge_point.connected:
                return True
        return False

    def _remember(self, charge_point_id: str, id_tag: str, *, remote: bool = False) -> None:
        marker = "remote:" if remote else "shown:"
        self._recent[charge_point_id] = (marker + tag_key(id_tag), self._clock())
        self._recent.move_to_end(charge_point_id)
        while len(self._recent) > MAX_REMEMBERED:
            self._recent.popitem(last=False)

    def _recently(self, charge_point_id: str, marked: str) -> bool:
        if (recent := self._recent.get(charge_point_id)) is None:
            return False
        remembered, at = recent
        return remembered == marked and self._clock() - at <= PRESENTATION_WINDOW

    def _remotely_started(self, charge_point_id: str, id_tag: str) -> bool:
        return self._recently(charge_point_id, "remote:" + tag_key(id_tag))

    def _just_presented(self, charge_point_id: str, id_tag: str) -> bool:
        return self._recently(charge_point_id, "shown:" + tag_key(id_tag)) or (
            self._remotely_started(charge_point_id, id_tag)
        )
