"""The three independent accounts of which signups exist, as `Signup` records.

- the client's ledger: what each request was answered (a 201 is a promise that it is stored);
- the table: what a scan finds;
- the queue subscribed to the topic: what SNS delivered, repeats included.

A signup is its email (the table's key); when a source carries the request's token (the item's
`requestToken` attribute, the message's `requestToken` attribute, the 201's `requestToken` or the
`Idempotency-Key` the client sent) two records are the same signup only if the tokens agree too.
A source without a token matches on the email alone, so the counting works before and after the
service stores tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Attempt", "ClientLedger", "Signup", "queue_signups", "table_signups"]

TOKEN = "requestToken"


@dataclass(frozen=True)
class Signup:
    email: str
    token: str | None = None

    def matches(self, other: Signup) -> bool:
        if self.email != other.email:
            return False
        return self.token is None or other.token is None or self.token == other.token

    def __str__(self) -> str:
        return self.email if self.token is None else f"{self.email} ({self.token})"


@dataclass(frozen=True)
class Attempt:
    """One request as the client saw it. `status` None: no answer (timeout, reset, gave up)."""

    signup: Signup
    status: int | None
    notified: bool | None = None  # what a 201 said; None when it did not say


@dataclass
class ClientLedger:
    """The client's own record of every signup it sent and what it was answered."""

    attempts: list[Attempt] = field(default_factory=list)

    def answer(
        self, email: str, status: int | None, body: Any = None, token: str | None = None
    ) -> None:
        """Record an answer; a 201's JSON body gives `notified` (and `requestToken`, if any)."""
        notified = None
        if status == 201 and isinstance(body, dict):
            token = token or body.get(TOKEN)
            notified = body.get("notified") if isinstance(body.get("notified"), bool) else None
        self.attempts.append(Attempt(Signup(email, token), status, notified))

    def response(self, email: str, response: Any, token: str | None = None) -> None:
        """Record a Flask test-client or `requests` response."""
        getter = getattr(response, "get_json", None)
        if getter is not None:
            body = getter(silent=True)
        else:
            try:
                body = response.json()
            except ValueError:
                body = None
        self.answer(email, response.status_code, body, token)

    def no_answer(self, email: str, token: str | None = None) -> None:
        self.attempts.append(Attempt(Signup(email, token), None))

    @property
    def created(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status == 201]

    def last_answer(self, signup: Signup) -> Attempt | None:
        found = [a for a in self.attempts if a.signup.matches(signup)]
        return found[-1] if found else None


def table_signups(items: list[dict[str, Any]]) -> list[Signup]:
    """A scan's items (the low-level client's typed attributes)."""
    return [Signup(item["email"]["S"], item.get(TOKEN, {}).get("S")) for item in items]


def _email_in(message: str) -> str:
    """The email of "Name <email> signed up at ...": the last "<...>" before the last "signed up
    at", since the name is the visitor's own text and may hold anything."""
    head = message.rsplit("> signed up at ", 1)
    if len(head) != 2 or "<" not in head[0]:
        return ""
    return head[0].rsplit("<", 1)[1]


def queue_signups(messages: list[dict[str, Any]]) -> list[Signup]:
    """SNS envelopes read from the subscribed queue; an unreadable one has the email ""."""
    found = []
    for envelope in messages:
        attribute = envelope.get("MessageAttributes", {}).get(TOKEN, {})
        found.append(Signup(_email_in(str(envelope.get("Message", ""))), attribute.get("Value")))
    return found
