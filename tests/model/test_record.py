"""`record` behaves as dataclasses.dataclass on what the model uses: the same class written
both ways must construct, print, compare, hash, copy and refuse alike."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from hydra.model.record import (COMPILE_AFTER, FrozenInstanceError, asdict, field, fields, is_record, record,
                                replace)

def both(frozen: bool = False):
    """The same class built by dataclass and by record."""
    classes = []
    for decorate, make_field in ((dataclasses.dataclass(frozen=frozen), dataclasses.field),
                                 (record(frozen=frozen), field)):
        class Point:
            x: int
            y: int = 2
            tags: list = make_field(default_factory=list)
            note: str | None = make_field(default=None, repr=False)
            cached: dict = make_field(default_factory=dict, init=False, repr=False, compare=False)

            def total(self) -> int:
                return self.x + self.y
        classes.append(decorate(Point))
    return classes


def test_construction_defaults_and_factories_match_dataclasses():
    theirs, ours = both()
    for args, kwargs in (((1,), {}), ((1, 5), {}), ((1,), {"tags": [3], "note": "n"})):
        a, b = theirs(*args, **kwargs), ours(*args, **kwargs)
        assert vars(a) == vars(b)
        assert repr(a) == repr(b)
        assert a.total() == b.total()
    first, second = ours(1), ours(1)
    first.tags.append(9)
    assert second.tags == [] and first.cached is not second.cached
    with pytest.raises(TypeError):
        ours()
    with pytest.raises(TypeError):
        ours(1, cached={})


@pytest.mark.parametrize("frozen", (False, True))
def test_the_interpreted_and_the_compiled_init_bind_and_refuse_alike(frozen):
    """A class's first instances come from an interpreted __init__, the later ones from a
    compiled one: both build what dataclasses builds, and refuse what it refuses."""
    theirs, ours = both(frozen)
    calls = (((1,), {}), ((1, 5), {}), ((1,), {"tags": [3], "note": "n"}), ((), {"x": 4, "y": 0}),
             ((1, 2, [7], "n"), {}))
    wrong = (((), {}), ((1,), {"cached": {}}), ((1,), {"x": 2}), ((1, 2, [], None, 5), {}),
             ((1,), {"z": 0}))
    inits = set()
    for _ in range(COMPILE_AFTER // len(calls) + 2):
        inits.add(ours.__dict__.get("__init__"))
        for args, kwargs in calls:
            a, b = theirs(*args, **kwargs), ours(*args, **kwargs)
            assert vars(a) == vars(b) and repr(a) == repr(b) and a.x == b.x
        for args, kwargs in wrong:
            with pytest.raises(TypeError) as raised:
                theirs(*args, **kwargs)
            with pytest.raises(TypeError) as ours_raised:
                ours(*args, **kwargs)
            assert str(raised.value).split("() ")[1] == str(ours_raised.value).split("() ")[1]
    assert len(inits) == 3          # _first_init, then the interpreted one, then the compiled one
    if frozen:
        with pytest.raises(FrozenInstanceError):
            ours(1).x = 2


def test_equality_ignores_uncompared_fields_and_other_classes():
    _, ours = both()
    a, b = ours(1, tags=[1]), ours(1, tags=[1])
    b.cached["k"] = 1
    assert a == b
    assert a != ours(1, tags=[2])
    assert a != (1, 2, [1], None)
    with pytest.raises(TypeError):
        hash(a)


def test_frozen_records_hash_by_value_and_refuse_assignment():
    theirs, ours = both(frozen=True)
    a, b = ours(1, tags=()), ours(1, tags=())
    assert hash(a) == hash(b) and {a: 1}[b] == 1
    with pytest.raises(FrozenInstanceError):
        a.x = 3
    with pytest.raises(FrozenInstanceError):
        del a.x
    assert isinstance(FrozenInstanceError("x"), AttributeError)
    assert repr(a) == repr(theirs(1, tags=()))


def test_replace_asdict_and_fields_match_dataclasses():
    theirs, ours = both()
    a, b = theirs(1, tags=[[1]]), ours(1, tags=[[1]])
    assert asdict(b) == {k: v for k, v in dataclasses.asdict(a).items()}
    assert asdict(b)["tags"] is not b.tags
    assert vars(replace(b, y=7)) == vars(dataclasses.replace(a, y=7))
    with pytest.raises(ValueError):
        replace(b, cached={})
    with pytest.raises(TypeError):
        replace(b, nothing=1)
    assert [f.name for f in fields(b)] == [f.name for f in dataclasses.fields(a)]
    assert is_record(b) and is_record(type(b)) and not is_record(a)


@record(frozen=True)
class Pair:
    left: int
    right: tuple = ()


def test_copies_and_pickles_keep_every_field():
    value = Pair(4, (1,))
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.deepcopy(value) == value and copy.copy(value) == value


def test_post_init_runs_and_own_methods_are_kept():
    @record
    class Span:
        start: int
        end: int

        def __post_init__(self):
            self.size = self.end - self.start

        def __repr__(self) -> str:
            return f"[{self.start}, {self.end})"

    assert Span(2, 5).size == 3
    assert repr(Span(2, 5)) == "[2, 5)"


def test_a_required_field_after_a_default_is_refused():
    with pytest.raises(TypeError):
        @record
        class Bad:
            a: int = 1
            b: int


def test_a_recursive_value_prints():
    @record
    class Node:
        children: list = field(default_factory=list)

    node = Node()
    node.children.append(node)
    assert repr(node) == "test_a_recursive_value_prints.<locals>.Node(children=[...])"


def test_a_field_init_leaves_alone_stays_unset_in_both_inits():
    @record
    class Later:
        a: int
        later: int = field(init=False, repr=False)

    for _ in range(COMPILE_AFTER + 2):
        value = Later(1)
        assert vars(value) == {"a": 1}
