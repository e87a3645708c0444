"""The keys of a user's advisory locks on PostgreSQL (tasks/changes.py says
what each lock is for). Free of Django, so the bench's ceiling and the
end-to-end tests take the same locks."""

import hashlib

# The first key of the two-key advisory locks (a key space of its own: the
# Idempotency-Key locks use one 64-bit key). The second is the user's.
SYNC_LOCK = 1
ORDER_LOCK = 2


def user_lock_key(user_id: str) -> int:
    """A signed 32-bit key for a user id. Two users may share one: then
    their writes and syncs wait for each other more than they need to,
    nothing worse."""
    return int.from_bytes(hashlib.blake2b(user_id.encode(), digest_size=4).digest(), "big", signed=True)
