"""Call sites, as gdb uses them (DW_TAG_call_site of DWARF 5, DW_TAG_GNU_call_site of GNU's
DWARF 4 extension):

- frames that exist only through tail calls: a caller's call site names the function it
  called; when the frame below runs another function, the called one reached it through
  jumps (call sites marked DW_AT_call_tail_call), and each function on that path is a
  frame gdb shows (`__pthread_kill_internal` in every glibc abort);
- parameters' values at a function's entry (DW_OP_entry_value): what the caller put in a
  register before the call, the call site's DW_AT_call_value, evaluated in the caller.

Addresses here are the debug file's own (without the module's bias).
"""

from __future__ import annotations

import ctypes

from hydra.model.record import field, record, replace
from hydra.symbols.dwarf import (DW_AT_abstract_origin, DW_AT_frame_base, DW_AT_location, DW_OP_GNU_entry_value,
                                 DW_OP_entry_value, DW_OP_reg0, DW_OP_reg31, DW_OP_regx, DW_OP_stack_value,
                                 DW_TAG_catch_block, DW_TAG_formal_parameter, DW_TAG_inlined_subroutine,
                                 DW_TAG_lexical_block, DW_TAG_subprogram, DW_TAG_try_block, DebugFile, _Attribute,
                                 _Die, _DieP, _libc, constant_bytes, expression)

DW_TAG_call_site = 0x48
DW_TAG_call_site_parameter = 0x49
DW_TAG_GNU_call_site = 0x4109
DW_TAG_GNU_call_site_parameter = 0x410A
CALL_SITE_TAGS = (DW_TAG_call_site, DW_TAG_GNU_call_site)
PARAMETER_TAGS = (DW_TAG_call_site_parameter, DW_TAG_GNU_call_site_parameter)
NESTED_TAGS = (DW_TAG_lexical_block, DW_TAG_inlined_subroutine, DW_TAG_try_block, DW_TAG_catch_block)

DW_AT_low_pc = 0x11
DW_AT_call_return_pc = 0x7D
DW_AT_call_pc = 0x81
DW_AT_call_value = 0x7E
DW_AT_call_origin = 0x7F
DW_AT_call_tail_call = 0x82
DW_AT_call_target = 0x83
DW_AT_GNU_call_site_value = 0x2111
DW_AT_GNU_call_site_target = 0x2113
DW_AT_GNU_tail_call = 0x2115

MAX_CHAIN = 8                # tail calls followed from a call site to the frame below
MAX_PATHS = 64               # paths looked at before a chain is called ambiguous
MAX_DIES = 20000             # DIEs looked at in one function for its call sites


@record(frozen=True)
class CallSite:
    # the address after the call (or the jump, for a tail call); for a jump clang describes
    # by its own address (DW_AT_call_pc), that address
    return_pc: int
    target: int | None                  # the entry of the function called, in this file
    tail: bool
    # what the caller put in each DWARF register for the call: the DW_AT_call_value
    # expression, as (atom, number, number2) operations
    values: dict[int, tuple] = field(default_factory=dict)
    target_name: str | None = None      # the function called, when only declared here (another library's)
    # a call (not a tail call) is read in part until it is the one asked for: its DIE, to
    # read the rest (values, a declared target's entry) then
    pending: int | None = None
    # an indirect call's DW_AT_call_target: where the address jumped to was, as operations
    target_expression: tuple | None = None
    at_jump: bool = False               # return_pc is the jump's own address (DW_AT_call_pc)

    @property
    def inside(self) -> int:
        """An address of the calling function's code at the call (its line, its scopes)."""
        return self.return_pc if self.at_jump else self.return_pc - 1


@record(frozen=True)
class ScopeParameter:
    """A parameter of the function at an address, and where its value is there: the
    register whose value at entry it is (DW_OP_entry_value), a constant (DW_AT_const_value),
    or a register that holds it (DW_OP_regN)."""

    name: str
    entry_register: int | None = None
    constant: bytes | None = None
    register: int | None = None


@record(frozen=True)
class EntryParameter:
    """A parameter whose value in a frame comes from its caller: `register` held it at the
    function's entry; `only_at_entry` when its location at the pc is that entry value
    itself (DW_OP_entry_value), not a place of its own."""

    name: str
    register: int
    only_at_entry: bool


class CallSites:
    """The call sites of one debug file, read per function when first asked for."""

    def __init__(self, debug_file: DebugFile, resolve=None, concrete=None):
        """resolve(name) -> entry: a function only declared where it is called (defined in
        another unit), found by its name in the symbol table. concrete(address) -> the
        offset of the concrete function's DIE there, when the caller knows it (the scopes
        remembered between captures): no lookup through its unit."""
        self.file = debug_file
        self.lib = debug_file.lib
        self.resolve = resolve
        self.concrete = concrete
        self._sites: dict[int, list[CallSite]] = {}       # function entry -> its call sites
        self._names: dict[int, str | None] = {}
        # threads share return addresses: each lookup is made once per address
        self._functions: dict[int, _Die | None] = {}
        self._at: dict[int, CallSite | None] = {}
        self._parameters: dict[int, list[EntryParameter]] = {}
        self._frame_bases: dict[int, tuple | None] = {}
        self._entries: dict[int, int | None] = {}
        self._chains: dict[tuple, list[CallSite] | None] = {}

    # -- functions
    def function(self, address: int) -> _Die | None:
        """The concrete function (not an inlined instance) whose code holds address."""
        if address not in self._functions and self.concrete is not None:
            offset = self.concrete(address)
            if offset is not None:
                self.know_function(address, offset)
        if address not in self._functions:
            function = self._function(address)
            self._functions[address] = function
            if function is not None:
                # its entry is asked next (its call sites are listed by entry): each lookup
                # re-reads the function's unit, milliseconds in a large binary
                start = self.entry(function)
                if start is not None:
                    self._functions.setdefault(start, function)
        return self._functions[address]

    def know_function(self, address: int, offset: int) -> None:
        """The concrete function at address is the DIE at offset (found with the scopes, which
        are remembered between captures): no lookup through its unit."""
        if address in self._functions or not self.file.dwarf:
            return
        die = _Die()
        if self.lib.dwarf_offdie(self.file.dwarf, offset, ctypes.byref(die)) and \
                self.lib.dwarf_tag(ctypes.byref(die)) == DW_TAG_subprogram:
            self._functions[address] = die
            start = self.entry(die)
            if start is not None:
                self._functions.setdefault(start, die)

    def _function(self, address: int) -> _Die | None:
        if not self.file.dwarf:
            return None
        lib = self.lib
        # past an inlined instance dwarf_getscopes goes on into its abstract origin, so the
        # real parents come from dwarf_getscopes_die
        innermost = self._innermost(address)
        if innermost is None or lib.dwarf_tag(ctypes.byref(innermost)) == DW_TAG_subprogram:
            return innermost
        chain = _DieP()
        count = lib.dwarf_getscopes_die(ctypes.byref(innermost), ctypes.byref(chain))
        try:
            return next((_Die.from_buffer_copy(chain[i]) for i in range(count)
                         if lib.dwarf_tag(ctypes.byref(chain[i])) == DW_TAG_subprogram), None)
        finally:
            if count > 0:
                _libc.free(chain)

    def _innermost(self, address: int) -> _Die | None:
        """The innermost function at address: a subprogram or an inlined instance."""
        lib = self.lib
        cu = _Die()
        if not lib.dwarf_addrdie(self.file.dwarf, address, ctypes.byref(cu)):
            return None
        scopes = _DieP()
        count = lib.dwarf_getscopes(ctypes.byref(cu), address, ctypes.byref(scopes))
        if count <= 0:
            return None
        try:
            return next((_Die.from_buffer_copy(scopes[i]) for i in range(count)
                         if lib.dwarf_tag(ctypes.byref(scopes[i])) in (DW_TAG_subprogram,
                                                                       DW_TAG_inlined_subroutine)), None)
        finally:
            _libc.free(scopes)

    def entry(self, function: _Die) -> int | None:
        value = ctypes.c_uint64()
        if self.lib.dwarf_entrypc(ctypes.byref(function), ctypes.byref(value)) == 0:
            return value.value
        # a function in pieces (hot and cold parts) has only DW_AT_ranges: it starts at the first
        base, start, end = ctypes.c_uint64(), ctypes.c_uint64(), ctypes.c_uint64()
        if self.lib.dwarf_ranges(ctypes.byref(function), 0, ctypes.byref(base), ctypes.byref(start),
                                 ctypes.byref(end)) > 0:
            return start.value
        return None

    def entry_of(self, address: int) -> int | None:
        """The entry of the function around address."""
        if address not in self._entries:
            function = self.function(address)
            self._entries[address] = self.entry(function) if function is not None else None
        return self._entries[address]

    def name(self, entry: int) -> str | None:
        if entry not in self._names:
            function = self.function(entry)
            self._names[entry] = self.file._qualified_name(function) if function is not None else None
        return self._names[entry]

    # -- call sites
    def sites(self, entry: int) -> list[CallSite]:
        """The call sites in the function that starts at entry (inlined code included)."""
        if entry not in self._sites:
            function = self.function(entry)
            found: list[CallSite] = []
            if function is not None and self.entry(function) == entry:
                self._collect(function, found, [MAX_DIES])
            self._sites[entry] = found
        return self._sites[entry]

    def at(self, address: int, return_pc: int) -> CallSite | None:
        """The call site returning to return_pc, in the function around address (the
        caller's pc minus one)."""
        if return_pc not in self._at:
            function = self.function(address)
            entry = self.entry(function) if function is not None else None
            found = None
            if entry is not None and entry not in self._sites:
                found = self._site_around(function, address, return_pc)
            if found is None and entry is not None:
                found = next((site for site in self.sites(entry) if site.return_pc == return_pc), None)
            self._at[return_pc] = self._complete(found) if found is not None else None
        return self._at[return_pc]

    def _site_around(self, function: _Die, address: int, return_pc: int) -> CallSite | None:
        """The call site returning to return_pc, looked for only in the blocks and inlined
        calls that hold address: a large function's whole tree of DIEs costs milliseconds to
        list. None when it is not there (the caller then lists them all: a compiler's block
        ranges are not always exact)."""
        lib = self.lib
        scope = function
        budget = MAX_DIES
        for _ in range(64):
            child = _Die()
            if lib.dwarf_child(ctypes.byref(scope), ctypes.byref(child)) != 0:
                return None
            inner = None
            while budget > 0:
                budget -= 1
                tag = lib.dwarf_tag(ctypes.byref(child))
                if tag in CALL_SITE_TAGS:
                    gnu = tag == DW_TAG_GNU_call_site
                    if self._address(child, DW_AT_low_pc if gnu else DW_AT_call_return_pc) == return_pc:
                        return self._call_site(child, tag)
                elif tag in NESTED_TAGS and inner is None and lib.dwarf_haspc(ctypes.byref(child), address) > 0:
                    inner = _Die.from_buffer_copy(child)
                following = _Die()
                if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                    break
                child = following
            if inner is None:
                return None
            scope = inner
        return None

    def _complete(self, site: CallSite) -> CallSite:
        """The rest of a call site read in part: its values, and a declared target's entry."""
        if site.pending is None:
            return site
        die = _Die()
        values = self._values(die) if self.lib.dwarf_offdie(self.file.dwarf, site.pending, ctypes.byref(die)) \
            else {}
        target = site.target
        if target is None and site.target_name and self.resolve is not None:
            target = self.resolve(site.target_name)
        return replace(site, values=values, target=target, pending=None)

    def tail_chain(self, start: int | None, end: int | None) -> list[CallSite] | None:
        """The tail calls leading from the function at `start` to the one at `end`, one
        site in each function on the way, when exactly one path of at most MAX_CHAIN jumps
        does; None when there is none or more than one (gdb then shows no such frame)."""
        if end is None:
            return None
        return self.tail_chain_to(start, ("entry", end), lambda site: site.target == end)

    def tail_chain_to(self, start: int | None, key: tuple, ends) -> list[CallSite] | None:
        """As tail_chain, to a last jump that ends(site) accepts (one into another library,
        or to an address outside all code); key names ends for the cache."""
        if start is None:
            return None
        if (start, key) not in self._chains:
            self._chains[start, key] = self._tail_chain(start, ends)
        return self._chains[start, key]

    def _tail_chain(self, start: int, ends) -> list[CallSite] | None:
        paths: list[list[CallSite]] = []
        budget = [MAX_PATHS]

        def follow(entry: int, path: list[CallSite], seen: frozenset) -> None:
            if budget[0] <= 0 or len(paths) > 1:
                return
            for site in self.sites(entry):
                if not site.tail or site.target in seen:
                    continue
                if ends(site):
                    budget[0] -= 1
                    paths.append(path + [site])
                elif site.target is not None:       # a jump to a function of this file: on
                    budget[0] -= 1
                    if len(path) + 1 < MAX_CHAIN:
                        follow(site.target, path + [site], seen | {site.target})

        follow(start, [], frozenset({start}))
        return paths[0] if len(paths) == 1 and budget[0] > 0 else None

    def _collect(self, parent: _Die, found: list[CallSite], budget: list[int]) -> None:
        lib = self.lib
        child = _Die()
        if lib.dwarf_child(ctypes.byref(parent), ctypes.byref(child)) != 0:
            return
        while budget[0] > 0:
            budget[0] -= 1
            tag = lib.dwarf_tag(ctypes.byref(child))
            if tag in CALL_SITE_TAGS:
                site = self._call_site(child, tag)
                if site is not None:
                    found.append(site)
            elif tag in NESTED_TAGS:
                self._collect(_Die.from_buffer_copy(child), found, budget)
            following = _Die()
            if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                return
            child = following

    def _call_site(self, die: _Die, tag: int) -> CallSite | None:
        gnu = tag == DW_TAG_GNU_call_site
        return_pc = self._address(die, DW_AT_low_pc if gnu else DW_AT_call_return_pc)
        tail = self._flag(die, DW_AT_GNU_tail_call if gnu else DW_AT_call_tail_call)
        at_jump = False
        if return_pc is None and tail and not gnu:
            # clang gives a jump's own address, not the one after it (gdb 13 reads only
            # the latter, and shows no frame for such a jump)
            return_pc, at_jump = self._address(die, DW_AT_call_pc), True
        if return_pc is None:
            return None
        # a function's calls are listed to find one of them: only tail calls (followed in
        # chains) are read whole here, the others when asked for (_complete)
        target, name = self._target(die, DW_AT_abstract_origin if gnu else DW_AT_call_origin, resolve=tail)
        if tail:
            jumped_to = None
            if target is None and name is None:     # an indirect jump: `jmp *%rax`
                jumped_to = expression(self.lib, die, DW_AT_GNU_call_site_target if gnu else DW_AT_call_target)
            return CallSite(return_pc, target, tail, self._values(die), name, target_expression=jumped_to,
                            at_jump=at_jump)
        return CallSite(return_pc, target, tail, {}, name, pending=self.lib.dwarf_dieoffset(ctypes.byref(die)))

    def _address(self, die: _Die, code: int) -> int | None:
        attribute = _Attribute()
        value = ctypes.c_uint64()
        if self.lib.dwarf_attr(ctypes.byref(die), code, ctypes.byref(attribute)) and \
                self.lib.dwarf_formaddr(ctypes.byref(attribute), ctypes.byref(value)) == 0:
            return value.value
        return None

    def _flag(self, die: _Die, code: int) -> bool:
        attribute = _Attribute()
        value = ctypes.c_bool()
        return bool(self.lib.dwarf_attr(ctypes.byref(die), code, ctypes.byref(attribute)) and
                    self.lib.dwarf_formflag(ctypes.byref(attribute), ctypes.byref(value)) == 0 and value.value)

    def _target(self, die: _Die, code: int, resolve: bool = True) -> tuple[int | None, str | None]:
        """(entry, name) of the called function: the entry of the DIE the site names when
        it is a definition, or of the symbol a declaration names in this file; the name
        of a declaration, to be found in another library."""
        lib = self.lib
        attribute = _Attribute()
        target = _Die()
        if not lib.dwarf_attr(ctypes.byref(die), code, ctypes.byref(attribute)) or \
                not lib.dwarf_formref_die(ctypes.byref(attribute), ctypes.byref(target)):
            return None, None
        entry = self.entry(target)
        if entry is not None:
            return entry, None
        name = self.file._linkage_name(target) or _name(lib, target)
        return (self.resolve(name) if resolve and name and self.resolve is not None else None), name

    def _values(self, die: _Die) -> dict[int, tuple]:
        lib = self.lib
        values: dict[int, tuple] = {}
        child = _Die()
        if lib.dwarf_child(ctypes.byref(die), ctypes.byref(child)) != 0:
            return values
        for _ in range(64):
            if lib.dwarf_tag(ctypes.byref(child)) in PARAMETER_TAGS:
                register = _register(expression(self.lib, child, DW_AT_location))
                value = expression(self.lib, child, DW_AT_call_value) or \
                    expression(self.lib, child, DW_AT_GNU_call_site_value)
                if register is not None and value:
                    values[register] = value
            following = _Die()
            if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                break
            child = following
        return values

    def frame_base(self, address: int) -> tuple | None:
        """The DW_AT_frame_base of the concrete function around address, at address."""
        if address not in self._frame_bases:
            function = self.function(address)
            self._frame_bases[address] = expression(self.lib, function, DW_AT_frame_base, address) \
                if function is not None else None
        return self._frame_bases[address]

    # -- parameters
    def scope_parameters(self, address: int) -> tuple[bool, list[ScopeParameter]]:
        """Whether the innermost function at address is an inlined one, and its parameters
        in their DIEs' order, with where each one's value is there."""
        if not self.file.dwarf:
            return False, []
        lib = self.lib
        scope = self._innermost(address)
        found: list[ScopeParameter] = []
        child = _Die()
        if scope is None or lib.dwarf_child(ctypes.byref(scope), ctypes.byref(child)) != 0:
            return False, found
        inlined = lib.dwarf_tag(ctypes.byref(scope)) == DW_TAG_inlined_subroutine
        for _ in range(256):
            if lib.dwarf_tag(ctypes.byref(child)) == DW_TAG_formal_parameter:
                name = _name(lib, child)
                if name:
                    here = expression(self.lib, child, DW_AT_location, address)
                    found.append(ScopeParameter(name, entry_value_register(here), constant_bytes(lib, child),
                                                _register(here)))
            following = _Die()
            if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                break
            child = following
        return inlined, found

    def entry_parameters(self, address: int) -> list[EntryParameter]:
        """The parameters of the concrete function around address whose value at entry
        a caller's call site can give: those in a register at the function's entry."""
        if address not in self._parameters:
            self._parameters[address] = self._entry_parameters(address)
        return self._parameters[address]

    def _entry_parameters(self, address: int) -> list[EntryParameter]:
        lib = self.lib
        function = self.function(address)
        if function is None:
            return []
        start = self.entry(function)
        found = []
        child = _Die()
        if lib.dwarf_child(ctypes.byref(function), ctypes.byref(child)) != 0:
            return found
        for _ in range(256):
            if lib.dwarf_tag(ctypes.byref(child)) == DW_TAG_formal_parameter:
                # a parameter's own name (libdw follows its abstract origin): the qualified-
                # name path would re-read the whole unit to find its parents, milliseconds each
                name = _name(lib, child)
                here = expression(self.lib, child, DW_AT_location, address)
                at_entry = expression(self.lib, child, DW_AT_location, start) if start is not None else None
                register = entry_value_register(here)
                if name and register is not None:
                    found.append(EntryParameter(name, register, True))
                elif name and _register(at_entry) is not None:
                    found.append(EntryParameter(name, _register(at_entry), False))
            following = _Die()
            if lib.dwarf_siblingof(ctypes.byref(child), ctypes.byref(following)) != 0:
                break
            child = following
        return found


def _name(lib, die: _Die) -> str | None:
    raw = lib.dwarf_diename(ctypes.byref(die))
    return raw.decode("utf-8", "replace") if raw is not None else None


def _register(expression: tuple | None) -> int | None:
    """The register of a location that is one register (DW_OP_regN, DW_OP_regx)."""
    if not expression or len(expression) != 1:
        return None
    atom, number, _ = expression[0]
    if DW_OP_reg0 <= atom <= DW_OP_reg31:
        return atom - DW_OP_reg0
    if atom == DW_OP_regx:
        return number
    return None


def entry_value_register(expression: tuple | None) -> int | None:
    """The register of `DW_OP_entry_value(DW_OP_regN) [DW_OP_stack_value]`: a value that
    is only the parameter's value at entry."""
    if not expression or expression[0][0] not in (DW_OP_entry_value, DW_OP_GNU_entry_value):
        return None
    if len(expression) > 2 or (len(expression) == 2 and expression[1][0] != DW_OP_stack_value):
        return None
    _, length, block = expression[0]
    if not block or not 1 <= length <= 8:
        return None
    # libdw points at the block's ULEB128 length, then the block (one byte: length <= 8)
    head = ctypes.string_at(block, 1)[0]
    raw = ctypes.string_at(block + 1, length) if head == length else ctypes.string_at(block, length)
    if DW_OP_reg0 <= raw[0] <= DW_OP_reg31 and length == 1:
        return raw[0] - DW_OP_reg0
    if raw[0] == DW_OP_regx:
        value = shift = 0
        for byte in raw[1:]:
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value
    return None
