"""Record classes: what ``@dataclasses.dataclass`` makes of the classes dfix writes, at a fraction of the cost.

On Python 3.11 the dataclass decorator compiles three to six small functions for every class, about
0.8 ms a class (1.2 ms frozen), and importing ``dataclasses`` imports ``inspect``, ``ast`` and ``dis``
(~10 ms). dfix creates some fifty record classes before it reads a byte, which made this ~50 ms of a
~175 ms one-file run. Here ``__init__`` is the only function compiled for a class, when its first record
is made; ``__repr__``, ``__eq__``, ``__hash__`` and the frozen guards are shared functions reading the
class's fields.

The semantics are the dataclass ones for the parts dfix uses, and ``tests/test_records.py`` holds them to
the standard library's, class by class: fields from annotations (``ClassVar`` excluded) and from record
bases; ``field(default=..., default_factory=..., init=...)``; ``frozen``, ``eq`` and ``slots``; the same
``__hash__`` (so sets of records iterate in the same order); ``__post_init__``; a method the class defines
itself is kept. ``replace``, ``asdict`` and ``fields`` work as the dataclasses functions of the same name do.
"""

from __future__ import annotations

import reprlib
from typing import Any

__all__ = ["FrozenInstanceError", "asdict", "field", "fields", "record", "replace"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record."""


class Field:
    __slots__ = ("name", "default", "default_factory", "init")

    def __init__(self, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.init = init

    def __repr__(self) -> str:
        return (f"Field(name={self.name!r}, default={self.default!r}, "
                f"default_factory={self.default_factory!r}, init={self.init!r})")


def field(*, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True) -> Any:
    return Field(default, default_factory, init)


def fields(record_or_class: Any) -> tuple[Field, ...]:
    try:
        return record_or_class.__record_fields__
    except AttributeError:
        raise TypeError("must be called with a record class or instance") from None


def replace(obj: Any, /, **changes: Any) -> Any:
    """A copy of ``obj`` with ``changes``: its class's ``__init__`` runs again, ``__post_init__`` too."""
    for f in fields(obj):
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with replace()")
            continue
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


def asdict(obj: Any) -> dict[str, Any]:
    """The record as a dict, records, lists, tuples and dicts inside it converted too, other values deep-copied."""
    if not hasattr(type(obj), "__record_fields__"):
        raise TypeError("asdict() should be called on record instances")
    return _asdict(obj)


def _asdict(obj: Any) -> Any:
    if hasattr(type(obj), "__record_fields__"):
        return {f.name: _asdict(getattr(obj, f.name)) for f in obj.__record_fields__}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*[_asdict(v) for v in obj])
    if isinstance(obj, (list, tuple)):
        return type(obj)(_asdict(v) for v in obj)
    if isinstance(obj, dict):
        return type(obj)((_asdict(k), _asdict(v)) for k, v in obj.items())
    import copy

    return copy.deepcopy(obj)


def record(cls: type | None = None, /, *, frozen: bool = False, eq: bool = True, slots: bool = False) -> Any:
    """``@record``, ``@record(frozen=True)``, ``@record(slots=True)``, ``@record(eq=False)``: as @dataclass."""
    def wrap(cls: type) -> type:
        return _make(cls, frozen, eq, slots)
    return wrap if cls is None else wrap(cls)


def _is_class_var(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__origin__", annotation).__repr__()
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _make(cls: type, frozen: bool, eq: bool, slots: bool) -> type:
    own = cls.__dict__
    inherited: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        for f in base.__dict__.get("__record_fields__", ()):
            inherited[f.name] = f
    found = dict(inherited)
    for name, annotation in own.get("__annotations__", {}).items():
        if _is_class_var(annotation):
            continue
        default = own.get(name, MISSING)
        f = default if isinstance(default, Field) else Field(default)
        f.name = name
        if f.default is not MISSING and f.default.__class__.__hash__ is None:
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use default_factory")
        if isinstance(default, Field):
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        found[name] = f
    record_fields = tuple(found.values())
    cls.__record_fields__ = record_fields
    cls.__record_values__ = staticmethod(_values_getter(tuple(f.name for f in record_fields)))

    def new(name: str, value: Any) -> None:
        if name not in own:  # a method the class defines itself stays, as with dataclasses
            setattr(cls, name, value)

    final = [cls]  # the class the frozen guards and __init__ stand for: the slotted copy, once it is made
    new("__init__", _first_init(final, record_fields, frozen, slots))
    new("__repr__", _repr)
    if eq:
        new("__eq__", _eq)
    if frozen:
        if "__setattr__" in own or "__delattr__" in own:
            raise TypeError(f"cannot overwrite attribute __setattr__ or __delattr__ in class {cls.__name__}")
        cls.__setattr__, cls.__delattr__ = _frozen_guards(final, frozenset(found))
    # dataclasses' table for unsafe_hash=False: a __hash__ the class wrote stays; an __eq__ it wrote
    # leaves __hash__ None in its namespace, which does not count as written
    written_hash = not ("__hash__" not in own or (own["__hash__"] is None and "__eq__" in own))
    if eq and not written_hash:
        cls.__hash__ = _hash if frozen else None  # type: ignore[assignment]
    cls.__match_args__ = tuple(f.name for f in record_fields if f.init)
    if slots:
        cls = final[0] = _with_slots(cls, record_fields, frozen)
    return cls


def _values_getter(names: tuple[str, ...]):
    # a tuple even for one field: hash((value,)), as dataclasses hashes, keeps set orders the same
    if not names:
        return lambda self: ()
    if len(names) == 1:
        only = names[0]
        return lambda self: (getattr(self, only),)
    from operator import attrgetter

    return attrgetter(*names)


def _first_init(final: list[type], record_fields: tuple[Field, ...], frozen: bool, slots: bool):
    """The __init__ a record class has until its first record is made, which compiles the real one and puts it
    in its place: compiling is most of what a record class costs, and a run makes records of about half."""
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = final[0]
        real = _init(cls, record_fields, frozen, slots)
        cls.__init__ = real
        real(self, *args, **kwargs)

    return __init__


def _init(cls: type, record_fields: tuple[Field, ...], frozen: bool, slots: bool):
    params, body = [], []
    env: dict[str, Any] = {"__MISSING": MISSING, "__object_setattr": object.__setattr__}
    for f in record_fields:
        value = None
        if f.init:
            if f.default_factory is not MISSING:
                env[f"__default_{f.name}"] = f.default_factory
                params.append(f"{f.name}=__MISSING")
                value = f"__default_{f.name}() if {f.name} is __MISSING else {f.name}"
            elif f.default is not MISSING:
                env[f"__default_{f.name}"] = f.default
                params.append(f"{f.name}=__default_{f.name}")
                value = f.name
            else:
                params.append(f.name)
                value = f.name
        elif f.default_factory is not MISSING:
            env[f"__default_{f.name}"] = f.default_factory
            value = f"__default_{f.name}()"
        elif slots and f.default is not MISSING:
            env[f"__default_{f.name}"] = f.default
            value = f"__default_{f.name}"
        if value is not None:  # otherwise the class attribute holds the default, as with dataclasses
            body.append(f"__object_setattr(self, {f.name!r}, {value})" if frozen else f"self.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n    " + "\n    ".join(body or ["pass"]) + "\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<record {cls.__qualname__}>", "exec"), env, namespace)
    function = namespace["__init__"]
    function.__qualname__ = f"{cls.__qualname__}.__init__"
    function.__module__ = cls.__module__
    return function


@reprlib.recursive_repr()
def _repr(self) -> str:
    values = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.__record_fields__)
    return f"{self.__class__.__qualname__}({values})"


def _eq(self, other: Any) -> Any:
    if other.__class__ is self.__class__:
        return self.__record_values__(self) == other.__record_values__(other)
    return NotImplemented


def _hash(self) -> int:
    return hash(self.__record_values__(self))


def _frozen_guards(final: list[type], names: frozenset[str]):
    # as dataclasses': an instance of the record class itself takes no new attribute at all, a
    # subclass's instance may take others but not the record's fields
    def __setattr__(self, name: str, value: Any) -> None:
        if type(self) is final[0] or name in names:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(final[0], self).__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if type(self) is final[0] or name in names:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(final[0], self).__delattr__(name)

    return __setattr__, __delattr__


def _getstate(self) -> list[Any]:
    return [getattr(self, f.name) for f in self.__record_fields__]


def _setstate(self, state: list[Any]) -> None:
    for f, value in zip(self.__record_fields__, state):
        object.__setattr__(self, f.name, value)  # frozen records too


def _with_slots(cls: type, record_fields: tuple[Field, ...], frozen: bool) -> type:
    inherited = {name for base in cls.__mro__[1:-1] for name in _slots_of(base)}
    namespace = dict(cls.__dict__)
    names = tuple(f.name for f in record_fields if f.name not in inherited)
    for name in names:
        namespace.pop(name, None)  # a default would clash with the slot; __init__ holds it
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    namespace["__slots__"] = names
    qualname = getattr(cls, "__qualname__", None)
    new_cls = type(cls)(cls.__name__, cls.__bases__, namespace)
    if qualname is not None:
        new_cls.__qualname__ = qualname
    if frozen:
        if "__getstate__" not in cls.__dict__:
            new_cls.__getstate__ = _getstate
        if "__setstate__" not in cls.__dict__:
            new_cls.__setstate__ = _setstate
    return new_cls


def _slots_of(cls: type) -> tuple[str, ...]:
    slots = cls.__dict__.get("__slots__", ())
    return (slots,) if isinstance(slots, str) else tuple(slots)
