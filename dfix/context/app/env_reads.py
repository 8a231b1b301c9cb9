"""Which ENV names a reading of an app looked at: the fix loop's passes add ENV lines (PYTHONUNBUFFERED, a
venv's PATH) that most readings never look at, so a reading can be reused for an image whose ENV differs
only in names it did not read."""

from __future__ import annotations

_ABSENT = object()


class EnvReads:
    """The names a reading looked up in ``env``, with the values ``env`` gave them (or their absence). Any
    access other than by name (iterating, copying, comparing) counts as reading the whole ENV."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = dict(env)
        self._seen: dict[str, object] = {}
        self.whole = False

    def watched(self) -> dict[str, str]:
        """A copy of the ENV for the reading to use (and change), noting here what it reads."""
        return _WatchedEnv(self._env, self)

    def note(self, name) -> None:
        if name not in self._seen:
            self._seen[name] = self._env.get(name, _ABSENT)

    def matches(self, env: dict[str, str]) -> bool:
        """Whether a reading with ``env`` would have seen the same values."""
        if self.whole:
            return env == self._env
        return all(env.get(name, _ABSENT) == value for name, value in self._seen.items())


class _WatchedEnv(dict):
    # a name read after the reading set it (`env X=1 app`) is still noted: that can only make a reuse rarer
    def __init__(self, env: dict[str, str], reads: EnvReads) -> None:
        super().__init__(env)
        self._reads = reads

    def __getitem__(self, name):
        self._reads.note(name)
        return super().__getitem__(name)

    def get(self, name, default=None):
        self._reads.note(name)
        return super().get(name, default)

    def __contains__(self, name) -> bool:
        self._reads.note(name)
        return super().__contains__(name)

    __hash__ = None  # type: ignore[assignment]


def _reading_all(method):
    def read_all(self, *args):
        self._reads.whole = True
        return method(self, *args)

    read_all.__name__ = method.__name__
    return read_all


# every other way to read it reads it all (dict(env), {**env} and update(env) go through keys())
for _name in ("__iter__", "__reversed__", "__len__", "keys", "values", "items", "copy", "pop", "popitem",
              "setdefault", "__eq__", "__ne__", "__or__", "__ror__", "__repr__"):
    setattr(_WatchedEnv, _name, _reading_all(getattr(dict, _name)))
