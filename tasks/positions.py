"""Order keys for the manual order: strings that sort as the tasks do.

A key between any two keys always exists, so a move writes one row. The
scheme is the "fractional indexing" one (as in Figma, and rocicorp's
fractional-indexing library): a key is an integer part, whose first character
gives its length, then a fraction with no trailing zero digit. Putting a task
first or last changes the integer part, so a user who adds 10,000 tasks at
the top gets keys of 4 characters, not 10,000; only repeated inserts into one
gap make keys longer (about one character per six), and `respace` shortens
a neighbourhood again when a key would pass KEY_MAX_LENGTH.
(docs/decisions/manual-order-keys.md)

Keys use the characters 0-9, A-Z, a-z and compare by code point, which is
byte order in UTF-8 and PostgreSQL's "C" collation.
"""

from __future__ import annotations

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_MAX_LENGTH = 64
SMALLEST_INTEGER = "A" + DIGITS[0] * 26
FIRST_KEY = "a" + DIGITS[0]


class InvalidKey(ValueError):
    pass


def _midpoint(a: str, b: str | None) -> str:
    """A fraction strictly between fractions a and b (b None: above a)."""
    if b is not None and a >= b:
        raise InvalidKey(f"{a!r} is not below {b!r}")
    if a.endswith(DIGITS[0]) or (b is not None and b.endswith(DIGITS[0])):
        raise InvalidKey("a fraction must not end in the zero digit")
    if b is not None:
        # The common prefix stays; find the midpoint of what follows it.
        n = 0
        while (a[n] if n < len(a) else DIGITS[0]) == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    digit_a = DIGITS.index(a[0]) if a else 0
    digit_b = DIGITS.index(b[0]) if b is not None else len(DIGITS)
    if digit_b - digit_a > 1:
        return DIGITS[(digit_a + digit_b + 1) // 2]
    if b is not None and len(b) > 1:
        return b[:1]
    return DIGITS[digit_a] + _midpoint(a[1:], None)


def _integer_length(head: str) -> int:
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    raise InvalidKey(f"invalid key head {head!r}")


def _split(key: str) -> tuple[str, str]:
    """(integer part, fraction) of a valid key."""
    if not key or key == SMALLEST_INTEGER:
        raise InvalidKey(f"invalid key {key!r}")
    length = _integer_length(key[0])
    if length > len(key) or any(c not in DIGITS for c in key):
        raise InvalidKey(f"invalid key {key!r}")
    integer, fraction = key[:length], key[length:]
    if fraction.endswith(DIGITS[0]):
        raise InvalidKey(f"invalid key {key!r}")
    return integer, fraction


def _increment(integer: str) -> str | None:
    head, digits = integer[0], list(integer[1:])
    for i in reversed(range(len(digits))):
        d = DIGITS.index(digits[i]) + 1
        if d < len(DIGITS):
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = DIGITS[0]
    if head == "Z":
        return "a" + DIGITS[0]
    if head == "z":
        return None
    new_head = chr(ord(head) + 1)
    if new_head > "a":
        digits.append(DIGITS[0])
    else:
        digits.pop()
    return new_head + "".join(digits)


def _decrement(integer: str) -> str | None:
    head, digits = integer[0], list(integer[1:])
    for i in reversed(range(len(digits))):
        d = DIGITS.index(digits[i]) - 1
        if d >= 0:
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = DIGITS[-1]
    if head == "a":
        return "Z" + DIGITS[-1]
    if head == "A":
        return None
    new_head = chr(ord(head) - 1)
    if new_head < "Z":
        digits.append(DIGITS[-1])
    else:
        digits.pop()
    return new_head + "".join(digits)


def key_between(a: str | None, b: str | None) -> str:
    """A key that sorts after `a` and before `b` (None: no bound on that side)."""
    if a is not None and b is not None and a >= b:
        raise InvalidKey(f"{a!r} is not below {b!r}")
    if a is None:
        if b is None:
            return FIRST_KEY
        integer_b, fraction_b = _split(b)
        if integer_b == SMALLEST_INTEGER:
            return integer_b + _midpoint("", fraction_b)
        if integer_b < b:
            return integer_b
        below = _decrement(integer_b)
        if below is None:
            raise InvalidKey("no key below the smallest key")
        return below
    integer_a, fraction_a = _split(a)
    if b is None:
        above = _increment(integer_a)
        return integer_a + _midpoint(fraction_a, None) if above is None else above
    integer_b, fraction_b = _split(b)
    if integer_a == integer_b:
        return integer_a + _midpoint(fraction_a, fraction_b)
    above = _increment(integer_a)
    if above is None:
        raise InvalidKey("no key above the largest key")
    if above < b:
        return above
    return integer_a + _midpoint(fraction_a, None)


def keys_between(a: str | None, b: str | None, n: int) -> list[str]:
    """`n` ascending keys after `a` and before `b`, as short as the bounds allow:
    each half of the range gets half of the keys."""
    if n <= 0:
        return []
    if n == 1:
        return [key_between(a, b)]
    if b is None:
        keys = [key_between(a, None)]
        while len(keys) < n:
            keys.append(key_between(keys[-1], None))
        return keys
    if a is None:
        keys = [key_between(None, b)]
        while len(keys) < n:
            keys.append(key_between(None, keys[-1]))
        return keys[::-1]
    middle = key_between(a, b)
    half = n // 2
    return [*keys_between(a, middle, half), middle, *keys_between(middle, b, n - half - 1)]


def is_valid_key(key: str) -> bool:
    try:
        _split(key)
    except InvalidKey:
        return False
    return True
