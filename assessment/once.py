"""A value made once, at its first use, even when threads ask for it at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic
from typing import TypeVar

T = TypeVar("T")


class Once(Generic[T]):
    """A value made at its first use, once, even when threads ask at the same moment."""

    def __init__(self) -> None:
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self, make: Callable[[], T]) -> T:
        """Return the value, making it first if nobody has."""
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._value = make()
        return value

    def set(self, value: T) -> None:
        """Put a value in place (a test's stand-in, or one made early)."""
        self._value = value

    def peek(self) -> T | None:
        """Return the value if it was made, without making it."""
        return self._value
