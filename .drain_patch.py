# Re-applies issue 11's changes to 9a's drain.py (channel lanes, dependencies, peer_ref). Run from the worktree.
p='outages/notify/drain.py'
s=open(p).read()
s=s.replace('''from sqlalchemy import Engine, and_, insert, or_, select, update

from ..schema import delivery_attempts, outbox
''','''from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.orm import aliased

from ..schema import delivery_attempts, outbox, subscriptions
''')
old='''def claim(engine: Engine, worker: str, policy: RetryPolicy, now: datetime) -> list[Claimed]:
    claimable = or_(
        and_(outbox.c.status == "queued", outbox.c.next_attempt_at <= now),
        and_(outbox.c.status == "sending", outbox.c.claimed_at < now - policy.claim_lease),  # its drain died
    )
'''
new='''def claim(engine: Engine, worker: str, policy: RetryPolicy, now: datetime, channel: str = "email") -> list[Claimed]:
    # A row that depends on another (an edit or a reply needs its channel post) waits until that one is done.
    before = aliased(outbox)
    ready = or_(outbox.c.depends_on.is_(None),
                select(before.c.id).where(before.c.id == outbox.c.depends_on,
                                          before.c.status.in_(("sent", "failed"))).exists())
    claimable = and_(outbox.c.channel == channel, ready, or_(
        and_(outbox.c.status == "queued", outbox.c.next_attempt_at <= now),
        and_(outbox.c.status == "sending", outbox.c.claimed_at < now - policy.claim_lease),  # its drain died
    ))
'''
assert old in s; s=s.replace(old,new)
old='''        rows = conn.execute(select(outbox).where(outbox.c.id.in_(taken)).order_by(outbox.c.id)).all()
    return [Claimed(id=r.id, attempts=r.attempts, created_at=r.created_at,
                    delivery=Delivery(id=r.id, target=r.recipient, idempotency_key=r.message_id, row=r._mapping))
            for r in rows]'''
new='''        # `anchor_ref`: what the peer answered for the row this one depends on (the post's message id).
        rows = conn.execute(select(outbox, before.c.peer_ref.label("anchor_ref"))
                            .outerjoin(before, before.c.id == outbox.c.depends_on)
                            .where(outbox.c.id.in_(taken)).order_by(outbox.c.id)).all()
    return [Claimed(id=r.id, attempts=r.attempts, created_at=r.created_at,
                    delivery=Delivery(id=r.id, target=r.recipient, idempotency_key=r.message_id, row=r._mapping))
            for r in rows]'''
assert old in s; s=s.replace(old,new)
old='''            batch = claim(engine, worker, transport.policy, clock())'''
new='''            batch = claim(engine, worker, transport.policy, clock(), transport.channel)'''
assert old in s; s=s.replace(old,new)
old='''        _finish(engine, worker, item, policy, clock(), monotonic() - began, answer=sent.answer, counts=counts)'''
new='''        _finish(engine, worker, item, policy, clock(), monotonic() - began, answer=sent.answer, counts=counts,
                peer_ref=sent.peer_ref)'''
assert old in s; s=s.replace(old,new)
old='''            counts: dict[str, int], answer: str = "", error: TransportError | None = None) -> None:
    values: dict[str, Any]
    if error is None:
        result = "sent"
        values = {"status": "sent", "sent_at": at, "last_answer": answer, "last_error": None}'''
new='''            counts: dict[str, int], answer: str = "", error: TransportError | None = None,
            peer_ref: str | None = None) -> None:
    values: dict[str, Any]
    # The peer's reference is committed with the result; a failed row passes its anchor on, so a later edit of
    # the same channel post still finds the post.
    peer_ref = peer_ref or item.delivery.row.get("anchor_ref")
    if error is None:
        result = "sent"
        values = {"status": "sent", "sent_at": at, "last_answer": answer, "last_error": None, "peer_ref": peer_ref}'''
assert old in s; s=s.replace(old,new)
old='''        values = {"status": "failed", "failed_at": at, "last_answer": error.answer or None, "last_error": str(error)}'''
new='''        values = {"status": "failed", "failed_at": at, "last_answer": error.answer or None, "last_error": str(error),
                  "peer_ref": peer_ref}'''
assert old in s; s=s.replace(old,new)
old='''        note = str(error) if error else None
        if not mine:'''
new='''        note = str(error) if error else None
        subscription = item.delivery.row.get("subscription_id")
        if mine and subscription and getattr(error, "disable_target", False):
            # The chat blocked the bot or is gone: its subscriptions end (`outages subscribers` counts them).
            conn.execute(update(subscriptions).where(
                subscriptions.c.medium == item.delivery.row.get("channel"),
                subscriptions.c.target == item.delivery.target,
                subscriptions.c.disabled_at.is_(None)).values(disabled_at=at))
        if not mine:'''
assert old in s; s=s.replace(old,new)
open(p,'w').write(s)
