"""The type table of a capture: the types of every captured variable, of the functions in
captured frames and of the program's globals, read from DWARF (symbols/dwarftypes.py).

While frames are walked, each variable is noted with the DIE of its declared type
(TypeNotes); once every thread is in, the types are read, each once, and the variables
point at them. The globals of the executable (and its functions' statics) come from one
walk of its DWARF, bounded; they become typed object symbols (capture/symboltable.py).
"""

from __future__ import annotations

import time

from hydra.model.crash import Variable
from hydra.model.record import field, record
from hydra.model.types import TypeTable
from hydra.symbols.dwarf import DebugFile
from hydra.symbols.dwarftypes import FunctionDefinition, GlobalVariable, TypeReader, global_variables

NAME_SECONDS = 0.3            # spent qualifying C++ type names through their DWARF parents
GLOBAL_DIES = 100_000         # DIEs looked at for the executable's globals
LIBRARY_GLOBAL_DIES = 20_000  # and for the globals of all libraries with debug info together
FUNCTION_TYPES = 4000         # functions of the executable given their types (beyond those in frames)
FUNCTION_SECONDS = 0.1        # and the time that may take


@record
class TypeNotes:
    """What the walk found out about types, as DIE offsets in debug files."""

    variables: list[tuple[Variable, str, int]] = field(default_factory=list)   # (variable, debug file, DIE)
    functions: dict[tuple[str, int], int] = field(default_factory=dict)        # (debug file, DIE) -> entry
    handed: list[tuple[list, list]] = field(default_factory=list)              # (refs, type map) from a fork
    handed_upto: int = 0                                                       # variables handover numbered

    def note(self, variables: list[Variable], scope, debug_path: str, bias: int) -> None:
        for variable in variables:
            offset = scope.types.get(variable.name)
            if offset is not None:
                self.variables.append((variable, debug_path, offset))
        if scope.die is not None and scope.entry is not None:
            self.functions[(debug_path, scope.die)] = scope.entry + bias

    def handover(self, threads, refs: dict[tuple[str, int], int]) -> None:
        """For a forked capture handing its threads back, part by part as it captures them:
        each variable of threads (noted since the last call) takes as its type id an index
        into refs, the (debug file, DIE) pairs in the order first met, which the parent
        reads into its own table (take, then Types.attach)."""
        noted = {id(variable): (path, offset) for variable, path, offset in self.variables[self.handed_upto:]}
        self.handed_upto = len(self.variables)
        for thread in threads:
            for frame in thread.frames:
                for variable in frame.args + frame.locals:
                    ref = noted.get(id(variable))
                    if ref is not None:
                        variable.type_id = refs.setdefault(ref, len(refs))

    def take(self, handed: list, type_map: list, functions: list) -> None:
        """What a forked capture handed over: its (debug file, DIE) pairs, to be read into
        `type_map` (which its decoded threads map their variables' type ids through)."""
        self.handed.append((handed, type_map))
        for path, die, entry in functions:
            self.functions[(path, die)] = entry


@record
class TypedGlobal:
    variable: GlobalVariable
    address: int                  # in the process
    type_id: int | None
    module: str


class Types:
    """Reads types for one capture: one reader per debug file, one table."""

    def __init__(self, open_files: dict[str, DebugFile]):
        self.table = TypeTable()
        self.shared: dict = {}
        self.budget = [NAME_SECONDS]
        self.open_files = open_files
        self.readers: dict[str, TypeReader | None] = {}
        self.opened: list[DebugFile] = []

    def reader(self, path: str) -> TypeReader | None:
        if path not in self.readers:
            debug_file = self.open_files.get(path)
            if debug_file is None:
                debug_file = DebugFile(path)
                self.opened.append(debug_file)
            self.readers[path] = TypeReader(debug_file, self.table, self.shared, self.budget) \
                if debug_file.dwarf else None
        return self.readers[path]

    def close(self) -> None:
        for debug_file in self.opened:
            debug_file.close()

    def type_at(self, path: str, offset: int) -> int | None:
        reader = self.reader(path)
        try:
            return reader.type_at(offset) if reader is not None else None
        except (ValueError, OverflowError, RecursionError):      # hostile DWARF: no type
            return None

    def attach(self, notes: TypeNotes) -> dict[int, int]:
        """Point noted variables at their types; the types of noted functions, by entry."""
        for variable, path, offset in notes.variables:
            variable.type_id = self.type_at(path, offset)
        for refs, type_map in notes.handed:
            type_map[:] = [self.type_at(path, offset) for path, offset in refs]
        functions = {}
        for (path, die), entry in notes.functions.items():
            reader = self.reader(path)
            if reader is not None:
                type_id = reader.function_type_at(die)
                if type_id is not None:
                    functions[entry] = type_id
        return functions

    def globals_of(self, path: str, module: str, bias: int, functions: dict[int, int],
                   dies: list[int] | None = None, whole: bool = False) -> tuple[list[TypedGlobal], bool]:
        """The module's globals with their types, looking at GLOBAL_DIES DIEs or what is
        left of `dies` (with `whole`, none unless all fit); its functions' types go into
        `functions` (by entry address), up to FUNCTION_TYPES."""
        reader = self.reader(path)
        if reader is None:
            return [], True
        definitions: list[FunctionDefinition] = []
        found, complete = global_variables(reader.file, GLOBAL_DIES, functions=definitions, name_budget=self.budget,
                                           budget=dies)
        if whole and not complete:
            return [], False
        deadline = time.perf_counter() + FUNCTION_SECONDS
        for definition in definitions[:FUNCTION_TYPES]:
            if time.perf_counter() > deadline:
                break        # a large program: functions outside the frames stay untyped
            entry = definition.address + bias
            if entry not in functions:
                type_id = reader.function_type_at(definition.die)
                if type_id is not None:
                    functions[entry] = type_id
        return [TypedGlobal(g, g.address + bias if g.constant is None else 0, self.type_at(path, g.type_offset),
                            module) for g in found], complete
