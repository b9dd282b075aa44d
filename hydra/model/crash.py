"""The crash model: one process, its threads and frames, and what surrounds them."""

from __future__ import annotations

import bisect
from collections.abc import Callable

from hydra.model.memory import Memory
from hydra.model.record import field, record
from hydra.model.symbols import SymbolTable
from hydra.model.types import TypeTable


class Trust:
    """How a frame was found: the words `bt --json` says, Breakpad's and rust-minidump's
    (`tailcall`: a frame that exists only through a jump, put back from call sites)."""

    CONTEXT = "context"                 # the thread's own registers
    CFI = "cfi"
    FRAME_POINTER = "frame_pointer"
    SCAN = "scan"
    TAILCALL = "tailcall"


# the function name of the kernel's return path out of a signal handler, as gdb names it
SIGNAL_HANDLER_CALLED = "<signal handler called>"
SENT_CODES = (0, -1, -6)        # SI_USER, SI_QUEUE, SI_TKILL: a process sent the signal
# what a value shows, as gdb spells it, when it is not there to show
OPTIMIZED_OUT = "<optimized out>"       # the compiler kept it nowhere at this pc
UNAVAILABLE = "<unavailable>"           # kept somewhere the snapshot did not keep
UNREADABLE = "<unreadable>"             # where it was could not be read
MAX_RAW_BYTES = 64      # the bytes kept of a value held outside memory (vector registers are 64)


@record
class Signal:
    number: int
    name: str
    code: int | None = None
    code_name: str | None = None
    address: int | None = None
    # who sent it, when a process did (kill, sigqueue, tgkill: SI_USER, SI_QUEUE, SI_TKILL)
    sender_pid: int | None = None
    sender_uid: int | None = None


@record
class Variable:
    """A value as a tree: structs have members, arrays elements, pointers their target.

    `value` is the display text (gdb's spelling for scalars). `note` says why a value
    is missing (`<optimized out>`, `<unreadable>`); `omitted` counts children that were
    not captured (budget, page limits).
    """

    name: str
    type: str
    value: str
    kind: str = "local"          # arg, local, member, element, target, global
    address: int | None = None
    size: int | None = None
    note: str | None = None
    children: list[Variable] = field(default_factory=list)
    omitted: int = 0
    type_id: int | None = None       # its type in the crash's type table (top-level variables)
    raw: bytes | None = None         # the bytes of a value that is not in memory (a register's)
    # a parameter's value when its function was entered (gdb's `p@entry`), from the caller's
    # call site; `value` equals it when the parameter is known only through it
    entry: str | None = None
    # [start, end) ranges of raw that are optimized out (a value held in pieces, some of them
    # nowhere: gdb prints those members `<optimized out>`)
    missing: list[tuple[int, int]] = field(default_factory=list)

    def path_child(self, name: str) -> Variable | None:
        for child in self.children:
            if child.name == name:
                return child
        return None


def only_bases(members: list[Variable]) -> bool:
    """Whether a class's members are all base classes (named `<Base>`), or it has none: gdb
    then adds `<No data fields>`."""
    return all(m.name.startswith("<") and m.name.endswith(">") and m.name != "<anonymous>" for m in members)


PRINT_ELEMENTS = 200        # gdb's `set print elements`
REPEAT_THRESHOLD = 10       # gdb's `set print repeats`
VECTOR_PREFIX = "std::vector of length "     # as libstdc++'s printers for gdb say it
# the other values that libstdc++'s printers give children: `HEAD = {children}`
PRINTER_PREFIXES = (VECTOR_PREFIX, "std::unique_ptr<", "std::shared_ptr<", "std::weak_ptr<",
                    "std::map with ", "std::multimap with ", "std::set with ", "std::multiset with ",
                    "std::unordered_", "std::__cxx11::list = ", "std::list = ", "empty std::",
                    "std::deque with ", "std::optional<")


def container_head(value: str) -> tuple[str, str]:
    """("std::vector of length 3, capacity 3 = ", "{1, 2, 3}") for a value as a
    pretty-printer spells it, ("", value) for any other."""
    if value.startswith(PRINTER_PREFIXES):
        head, separator, elements = value.partition(" = {")
        if separator:
            return head + " = ", "{" + elements
    return "", value


@record
class Frame:
    index: int
    pc: int
    function: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    module: str | None = None
    module_offset: int | None = None
    inline: bool = False
    trust: str = Trust.CFI
    sp: int | None = None
    cfa: int | None = None
    symbol: str | None = None        # linkage name, when it differs from `function`
    symbol_offset: int | None = None
    registers: dict[str, int] = field(default_factory=dict)
    _args: list[Variable] | None = field(default=None, repr=False)
    _locals: list[Variable] | None = field(default=None, repr=False)
    _variables_loader: Callable[[], tuple[list[Variable], list[Variable]]] | None = field(
        default=None, repr=False
    )

    def _load_variables(self) -> None:
        if self._args is None or self._locals is None:
            if self._variables_loader is not None:
                self._args, self._locals = self._variables_loader()
                self._variables_loader = None
            self._args = self._args or []
            self._locals = self._locals or []

    @property
    def args(self) -> list[Variable]:
        self._load_variables()
        return self._args  # type: ignore[return-value]

    @args.setter
    def args(self, value: list[Variable]) -> None:
        self._args = value

    @property
    def locals(self) -> list[Variable]:
        self._load_variables()
        return self._locals  # type: ignore[return-value]

    @locals.setter
    def locals(self, value: list[Variable]) -> None:
        self._locals = value

    @property
    def display_name(self) -> str:
        if self.function:
            return self.function
        if self.module:
            return f"{self.module.rsplit('/', 1)[-1]}+0x{self.module_offset or 0:x}"
        return "??"              # as gdb names a pc outside every module (its address is shown beside)


@record
class Thread:
    tid: int
    name: str | None = None
    state: str = "?"                 # F R S D T Z ?
    crashed: bool = False
    registers: dict[str, int] = field(default_factory=dict)
    frames: list[Frame] = field(default_factory=list)
    unwind_note: str | None = None   # why the walk stopped early, when it did
    elided_frames: int = 0           # frames left out of a repeating run (deep recursion)
    elided_after: int | None = None  # index of the frame the elided run follows
    kernel_frames: list[str] = field(default_factory=list)


@record
class MapEntry:
    start: int
    end: int
    perms: str
    offset: int = 0
    path: str | None = None


@record
class Module:
    path: str
    base: int
    size: int
    build_id: str | None = None
    debug_file: str | None = None
    has_symbols: bool = False
    debug_id: str | None = None
    code_file: str | None = None
    note: str | None = None          # e.g. a build-id mismatch

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@record
class SourceFile:
    path: str
    _text: str | None = field(default=None, repr=False)
    _loader: Callable[[], str] | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._loader() if self._loader else ""
            self._loader = None
        return self._text


@record
class Classifier:
    name: str
    detail: str = ""


@record
class Annotation:
    text: str
    severity: str = "info"           # info, warning, error
    source: str = "hydra"            # the analyzer that made it
    tid: int | None = None
    frame: int | None = None
    variable: str | None = None      # a path such as "args/c/items/[0]"

    @property
    def owner(self) -> str:
        """`thread 42, frame #0, args/c`, or `process`."""
        parts = []
        if self.tid is not None:
            parts.append(f"thread {self.tid}")
        if self.frame is not None:
            parts.append(f"frame #{self.frame}")
        if self.variable:
            parts.append(self.variable)
        return ", ".join(parts) or "process"


@record
class Process:
    pid: int | None = None
    command_line: str | None = None
    executable: str | None = None
    uid: int | None = None
    gid: int | None = None
    capture_time: float | None = None
    core_path: str | None = None
    core_size: int | None = None
    architecture: str = "x86_64"
    state: str | None = None
    capture_version: int | None = None   # hydra.capture.version when a core was captured


@record
class Crash:
    process: Process = field(default_factory=Process)
    signal: Signal | None = None
    crashed_tid: int | None = None
    threads: list[Thread] = field(default_factory=list)
    modules: list[Module] = field(default_factory=list)
    memory_map: list[MapEntry] = field(default_factory=list)
    memory: Memory = field(default_factory=Memory)
    sources: dict[str, SourceFile] = field(default_factory=dict)
    globals: list[Variable] = field(default_factory=list)
    classifiers: list[Classifier] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    system: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    origin: str = "core"             # core, snapshot, live, minidump
    truncated: bool = False          # the dump was cut short: memory, and maybe frames, are missing
    # read when first asked for: opening a snapshot does not pay for them
    _types: TypeTable | None = field(default=None, repr=False)
    _types_loader: Callable[[], TypeTable] | None = field(default=None, repr=False, compare=False)
    _symbols: SymbolTable | None = field(default=None, repr=False)
    _symbols_loader: Callable[[], SymbolTable] | None = field(default=None, repr=False, compare=False)
    _indexes: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def types(self) -> TypeTable:
        """Types for evaluating expressions (empty when the snapshot has none: older
        snapshots, minidumps)."""
        if self._types is None:
            self._types = self._types_loader() if self._types_loader else TypeTable()
            self._types_loader = None
        return self._types

    @types.setter
    def types(self, table: TypeTable) -> None:
        self._types, self._types_loader = table, None

    @property
    def symbols(self) -> SymbolTable:
        if self._symbols is None:
            self._symbols = self._symbols_loader() if self._symbols_loader else SymbolTable()
            self._symbols_loader = None
        return self._symbols

    @symbols.setter
    def symbols(self, table: SymbolTable) -> None:
        self._symbols, self._symbols_loader = table, None

    def thread(self, tid: int) -> Thread | None:
        for thread in self.threads:
            if thread.tid == tid:
                return thread
        return None

    @property
    def crashed_thread(self) -> Thread | None:
        if self.crashed_tid is not None:
            found = self.thread(self.crashed_tid)
            if found:
                return found
        return self.threads[0] if self.threads else None

    def module_at(self, address: int) -> Module | None:
        return _lookup(self.modules, self._indexes, "modules", address, lambda m: m.base,
                       lambda m: m.base + m.size)

    def map_entry_at(self, address: int) -> MapEntry | None:
        return _lookup(self.memory_map, self._indexes, "map", address, lambda e: e.start, lambda e: e.end)


def _lookup(items: list, indexes: dict, name: str, address: int, start, end):
    """The item whose [start, end) holds address: by bisection over a sorted copy, kept while
    the list is the same list of the same length (a dump may list tens of thousands)."""
    if len(items) < 16:
        return next((item for item in items if start(item) <= address < end(item)), None)
    cached = indexes.get(name)
    if cached is None or cached[0] is not items or cached[1] != len(items):
        ordered = sorted(items, key=start)
        cached = indexes[name] = (items, len(items), [start(item) for item in ordered], ordered)
    _items, _length, starts, ordered = cached
    index = bisect.bisect_right(starts, address) - 1
    # overlapping items are rare; look back a little for one that holds the address
    for candidate in ordered[max(0, index - 8) : index + 1][::-1]:
        if start(candidate) <= address < end(candidate):
            return candidate
    return None
