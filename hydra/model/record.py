"""`record`: the classes of the model, built by dataclasses' rules at a fraction of their cost.

`dataclasses.dataclass` costs about a third of a millisecond a class: it compiles each
method from its own source and writes a docstring through `inspect.signature`, and importing
it imports inspect. With some eighty classes that was 15 to 20 ms of every start, more than
the rest of a small minidump's `bt`. Here only `__init__` is compiled, as dataclasses writes
it (instances are made by the thousand), and only once the class has made COMPILE_AFTER
instances: compiling costs about what that many calls of the interpreted `__init__` that
serves until then do, and most classes a command uses make only a few (a small minidump's
`bt` compiled 23 of them, 2 ms of its 29). `__repr__`, `__eq__` and `__hash__` are shared
functions that read the class's field names.

What is kept of dataclasses: fields from annotations in order, plain defaults and
`field(default_factory=…, init=, repr=, compare=)`, `__post_init__`, `frozen=True` (hashable,
assignment refused), methods a class defines itself left alone, `fields`, `replace` and
`asdict`. What is not: inheritance between records, `order`, `slots`, `InitVar`, `ClassVar`.
"""

from __future__ import annotations

from reprlib import recursive_repr


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()
COMPILE_AFTER = 32      # instances a class makes through the interpreted __init__


class FrozenInstanceError(AttributeError):
    """An assignment to a field of a frozen record."""


class Field:
    __slots__ = ("name", "default", "default_factory", "init", "repr", "compare")

    def __init__(self, default=MISSING, default_factory=MISSING, init=True, repr=True, compare=True):
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("a field cannot have both a default and a default_factory")
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare

    def __repr__(self) -> str:
        return f"Field(name={self.name!r})"


def field(*, default=MISSING, default_factory=MISSING, init: bool = True, repr: bool = True,
          compare: bool = True):
    return Field(default, default_factory, init, repr, compare)


def record(cls=None, /, *, frozen: bool = False):
    """The class decorator (`@record` or `@record(frozen=True)`)."""
    if cls is None:
        return lambda cls: _build(cls, frozen)
    return _build(cls, frozen)


def is_record(value) -> bool:
    return hasattr(type(value) if not isinstance(value, type) else value, "__record_fields__")


def fields(value) -> tuple[Field, ...]:
    try:
        return value.__record_fields__
    except AttributeError:
        raise TypeError(f"not a record: {value!r}") from None


def replace(value, /, **changes):
    """A copy of value with changes, made through `__init__` as dataclasses.replace does."""
    arguments = {}
    for spec in fields(value):
        if not spec.init:
            if spec.name in changes:
                raise ValueError(f"field {spec.name} is not set by __init__ and cannot be replaced")
            continue
        arguments[spec.name] = changes.pop(spec.name) if spec.name in changes else getattr(value, spec.name)
    if changes:
        raise TypeError(f"{type(value).__name__} has no field {next(iter(changes))!r}")
    return type(value)(**arguments)


def asdict(value):
    """value's fields as a dictionary, records, lists, tuples and dictionaries within copied."""
    if is_record(value) and not isinstance(value, type):
        return {spec.name: asdict(getattr(value, spec.name)) for spec in value.__record_fields__}
    if isinstance(value, (list, tuple)):
        return type(value)(asdict(item) for item in value)
    if isinstance(value, dict):
        return type(value)((asdict(key), asdict(item)) for key, item in value.items())
    return value


def _build(cls, frozen: bool):
    specs = []
    for name in cls.__dict__.get("__annotations__", {}):
        default = cls.__dict__.get(name, MISSING)
        spec = default if isinstance(default, Field) else Field(default)
        spec.name = name
        if isinstance(default, Field):
            if spec.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        specs.append(spec)
    cls.__record_fields__ = tuple(specs)
    cls.__record_repr__ = tuple(spec.name for spec in specs if spec.repr)
    cls.__record_compare__ = tuple(spec.name for spec in specs if spec.compare)
    cls.__match_args__ = tuple(spec.name for spec in specs if spec.init)
    _check_order(cls, specs)
    cls.__record_frozen__ = frozen
    _add(cls, "__init__", _first_init)
    _add(cls, "__repr__", _repr)
    _add(cls, "__eq__", _eq)
    if frozen:
        _add(cls, "__hash__", _hash)
        _add(cls, "__setattr__", _refuse_setattr)
        _add(cls, "__delattr__", _refuse_delattr)
    elif "__hash__" not in cls.__dict__:
        cls.__hash__ = None     # mutable and compared by value: not hashable, as dataclasses rule
    return cls


def _add(cls, name: str, function) -> None:
    if name not in cls.__dict__:
        setattr(cls, name, function)


def _check_order(cls, specs: list[Field]) -> None:
    """A field without a default after one with: refused when the class is made, as by
    dataclasses."""
    after_default = None
    for spec in specs:
        if not spec.init:
            continue
        if spec.default is MISSING and spec.default_factory is MISSING:
            if after_default:
                raise TypeError(f"{cls.__name__}: non-default field {spec.name!r} follows default field "
                                f"{after_default!r}")
        else:
            after_default = after_default or spec.name


def _first_init(self, *args, **kwargs):
    """Every record's `__init__` until its first instance: it puts the class's interpreted
    one in place."""
    owner = next(c for c in type(self).__mro__ if c.__dict__.get("__init__") is _first_init)
    owner.__init__ = _interpreted_init(owner)
    owner.__init__(self, *args, **kwargs)


def _interpreted_init(cls):
    """An `__init__` that walks the class's fields, for its first COMPILE_AFTER instances;
    then it puts the compiled one in place. It binds arguments and refuses wrong ones as the
    compiled one does."""
    specs = cls.__record_fields__
    parameters = tuple(spec.name for spec in specs if spec.init)
    accepted = frozenset(parameters)
    required = sum(1 for spec in specs if spec.init and spec.default is MISSING and spec.default_factory is MISSING)
    takes = (f"{len(parameters) + 1}" if required == len(parameters)
             else f"from {required + 1} to {len(parameters) + 1}")
    assign = object.__setattr__ if cls.__record_frozen__ else setattr
    post_init = hasattr(cls, "__post_init__")
    made = 0

    def __init__(self, *args, **kwargs):
        nonlocal made
        made += 1
        if made == COMPILE_AFTER and cls.__dict__.get("__init__") is __init__:
            cls.__init__ = _init(cls)
        if len(args) > len(parameters):
            raise TypeError(f"__init__() takes {takes} positional arguments but {len(args) + 1} were given")
        given = dict(zip(parameters, args))
        for name, value in kwargs.items():
            if name not in accepted:
                raise TypeError(f"__init__() got an unexpected keyword argument {name!r}")
            if name in given:
                raise TypeError(f"__init__() got multiple values for argument {name!r}")
            given[name] = value
        for spec in specs:
            value = given.get(spec.name, MISSING) if spec.init else MISSING
            if value is MISSING:
                if spec.default_factory is not MISSING:
                    value = spec.default_factory()
                elif spec.default is not MISSING:
                    value = spec.default
                elif not spec.init:
                    continue            # set later by the class's own code, as compiled
                else:
                    raise TypeError(f"__init__() missing 1 required positional argument: {spec.name!r}")
            assign(self, spec.name, value)
        if post_init:
            self.__post_init__()

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    return __init__


def _init(cls):
    """The class's __init__, compiled from its fields."""
    frozen = cls.__record_frozen__
    namespace: dict[str, object] = {"_record_marker": MISSING, "_record_set": object.__setattr__}
    parameters, body = [], []
    for spec in cls.__record_fields__:
        name = spec.name
        if spec.default_factory is not MISSING:
            namespace[f"_record_factory_{name}"] = spec.default_factory
            if spec.init:
                value = f"_record_factory_{name}() if {name} is _record_marker else {name}"
                parameters.append(f"{name}=_record_marker")
            else:
                value = f"_record_factory_{name}()"
        elif spec.default is not MISSING:
            namespace[f"_record_default_{name}"] = spec.default
            value = name if spec.init else f"_record_default_{name}"
            if spec.init:
                parameters.append(f"{name}=_record_default_{name}")
        elif spec.init:
            value = name
            parameters.append(name)
        else:
            continue
        body.append(f"_record_set(self, {name!r}, {value})" if frozen else f"self.{name} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    source = f"def __init__(self, {', '.join(parameters)}):\n    " + ("\n    ".join(body) or "pass") + "\n"
    exec(source, namespace)
    function = namespace["__init__"]
    function.__qualname__ = f"{cls.__qualname__}.__init__"
    function.__module__ = cls.__module__
    return function


@recursive_repr()
def _repr(self) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_repr__)
    return f"{self.__class__.__qualname__}({shown})"


def _key(self) -> tuple:
    return tuple([getattr(self, name) for name in self.__record_compare__])


def _eq(self, other):
    if other.__class__ is not self.__class__:
        return NotImplemented
    return _key(self) == _key(other)


def _hash(self) -> int:
    return hash(_key(self))


def _refuse_setattr(self, name, value):
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _refuse_delattr(self, name):
    raise FrozenInstanceError(f"cannot delete field {name!r}")
