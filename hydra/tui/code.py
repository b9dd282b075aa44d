"""Source and disassembly views: pygments for highlighting, capstone for instructions."""

from __future__ import annotations

import functools
import re

from rich.text import Text

from hydra.model.crash import Crash, Frame
from hydra.tui.lines import Lines, message
from hydra.model.text import TAB_COLUMNS, printable
from hydra.tui.safe import safe


# pygments token type -> theme colour role
TOKEN_ROLES = (
    ("Comment", "comment"), ("Keyword", "keyword"), ("Name.Function", "function"),
    ("Name.Builtin", "keyword"), ("Literal.String", "string"), ("Literal.Number", "number"),
    ("Comment.Preproc", "preproc"), ("Operator", "operator"), ("Name.Class", "type"),
    ("Keyword.Type", "type"),
)


def _role(token_type) -> str | None:
    name = str(token_type).removeprefix("Token.")
    best = None
    for prefix, role in TOKEN_ROLES:
        if name == prefix or name.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, role)
    return best[1] if best else None


# the languages crashes come from, by extension: looking a lexer up by name is four times
# quicker than pygments' search over every file pattern it knows
LEXER_NAMES = {
    ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".hpp": "cpp", ".hh": "cpp",
    ".hxx": "cpp", ".ipp": "cpp", ".tcc": "cpp", ".rs": "rust", ".go": "go", ".s": "gas", ".S": "gas",
    ".py": "python", ".zig": "zig", ".d": "d",
}


def _lexer_for(path: str):
    from pygments.lexers import TextLexer, get_lexer_by_name, get_lexer_for_filename
    from pygments.util import ClassNotFound

    options = {"stripnl": False, "ensurenl": False}
    name = path.rsplit("/", 1)[-1]
    extension = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    try:
        if extension in LEXER_NAMES:
            return get_lexer_by_name(LEXER_NAMES[extension], **options)
        if "/c++/" in path or "/include/" in path:
            return get_lexer_by_name("cpp", **options)   # extensionless C++ headers
        return get_lexer_for_filename(path, **options)
    except ClassNotFound:
        return TextLexer(**options)


class SourceLines:
    def __init__(self, path: str, text: str, styles: dict[str, str]):
        # tab-indented code (kernel and glibc style) in the columns its author saw
        self.rows = [row.expandtabs(TAB_COLUMNS) for row in text.split("\n")]
        if self.rows and self.rows[-1] == "":
            self.rows.pop()
        self.path = path
        # pygments builds a lexer's rules on first use (tens of ms for C++): the first screen
        # shows the lines plain, and colours follow once load_lexer() has run after it
        self.lexer = None
        self.styles = styles
        self.mark = None
        self.number_width = len(str(len(self.rows)))
        self._highlight = functools.lru_cache(maxsize=4096)(self._highlight_row)

    def load_lexer(self) -> None:
        if self.lexer is None:
            self.lexer = _lexer_for(self.path)
            self._highlight.cache_clear()

    def _highlight_row(self, index: int) -> Text:
        # Each line is lexed alone: constant cost per line drawn, whatever the file's size.
        # (A comment spanning lines is coloured as code on its inner lines.)
        out = Text(end="", no_wrap=True)
        if self.lexer is None:
            return safe(self.rows[index])
        for token_type, value in self.lexer.get_tokens(self.rows[index]):
            role = _role(token_type)
            out.append_text(safe(value.replace("\n", ""), self.styles.get(role, "") if role else ""))
        return out

    def line(self, index: int) -> Text:
        number = f"{index + 1:>{self.number_width}} "
        marked = self.mark is not None and index == self.mark
        gutter = Text.assemble((">" if marked else " ", "bold reverse" if marked else ""),
                               (number, "bold" if marked else "dim"), end="")
        return Text.assemble(gutter, self._highlight(index), end="")

    def plain(self, index: int) -> str:
        return printable(self.rows[index])


def source_lines(crash: Crash, frame: Frame | None, styles: dict[str, str], cache: dict) -> Lines:
    if frame is None:
        return message("no frame selected")
    if not frame.file:
        return message(f"no source: frame #{frame.index} has no line information "
                       f"({frame.display_name})")
    source = crash.sources.get(frame.file)
    if source is None:
        return Lines(1, lambda i: Text.assemble(("no source in this snapshot for ", "italic"),
                                                safe(frame.file), (f":{frame.line}", ""), end=""))
    key = (frame.file, id(styles))
    view = cache.get(key)
    if view is None:
        view = cache[key] = SourceLines(frame.file, source.text, styles)
    view.mark = (frame.line - 1) if frame.line else None
    width = min(400, max((len(r) for r in view.rows[:20000]), default=10) + view.number_width + 3)
    return Lines(len(view.rows), view.line, width, view.mark or 0, plain=view.plain, payload=[view])


def is_thumb(crash: Crash, frame: Frame) -> bool:
    """32-bit ARM code in Thumb state: the CPSR's T bit, or an odd pc (a return address)."""
    return crash.process.architecture == "arm" and bool(frame.registers.get("cpsr", 0) & 0x20 or frame.pc & 1)


def instructions_around(crash: Crash, pc: int, before: int = 256, after: int = 4096,
                        thumb: bool = False) -> list[tuple[int, str, str]]:
    """(address, mnemonic, operands) from captured code bytes, aligned so one lands on pc:
    from up to `before` bytes ahead of it to `after` bytes past it (a dump may hold
    megabytes of code in one region)."""
    if thumb:
        pc &= ~1
    region = crash.memory.region_at(pc)
    if region is None:
        return []
    from hydra.analysis.instruction import engine as disassembler

    engine = disassembler(crash.process.architecture, thumb)
    if engine is None:
        return []
    data = region.data
    if pc >= region.end:
        return []
    start_limit = max(region.start, pc - before)
    end = min(region.end, pc + after)
    # x86 has no fixed instruction length: take the earliest start whose decoding hits pc
    for start in range(start_limit, pc + 1):
        decoded = []
        hit = False
        for insn in engine.disasm_lite(data[start - region.start : end - region.start], start):
            address, size, mnemonic, operands = insn
            decoded.append((address, mnemonic, operands))
            if address == pc:
                hit = True
            if address > pc and not hit:
                break
        if hit:
            return decoded
    return []


def instruction_at(crash: Crash, pc: int, thumb: bool = False) -> str | None:
    if thumb:
        pc &= ~1
    for address, mnemonic, operands in instructions_around(crash, pc, before=0, thumb=thumb):
        if address == pc:
            return f"{mnemonic} {operands}".strip()
    return None


_HEX_TARGET = re.compile(r"^(?:0x)?([0-9a-fA-F]+)$")
_RIP_RELATIVE = re.compile(r"\[rip ([+-]) 0x([0-9a-f]+)\]")


def disassembly_lines(crash: Crash, frame: Frame | None, faulting: bool) -> Lines:
    """Instructions around the frame's pc as gdb shows them: each at `<function+offset>`,
    call and jump targets named (`call 0x... <price_of>`), RIP-relative operands resolved
    (`# 0x4010 <accounts>`)."""
    if frame is None:
        return message("no frame selected")
    thumb = is_thumb(crash, frame)
    decoded = instructions_around(crash, frame.pc, thumb=thumb)
    if not decoded:
        return message(f"no code bytes captured around 0x{frame.pc:x}")
    symbols = crash.symbols
    texts = []
    cursor = 0
    pc = frame.pc & ~1 if thumb else frame.pc
    for index, (address, mnemonic, operands) in enumerate(decoded):
        here = address == pc
        if here:
            cursor = index
        marker = ("=> " if here else "   ")
        note = ("  <- faulting instruction" if faulting else "  <- return address") if here else ""
        where = symbols.label(address) or ""
        following = decoded[index + 1][0] if index + 1 < len(decoded) else None
        texts.append(Text.assemble((marker, "bold reverse" if here else ""), (f"0x{address:016x} ", "dim"),
                                   safe(f"{where:<24} " if where else "", "dim"),
                                   (f"{mnemonic:<9} ", "bold" if here else ""), safe(operands),
                                   safe(_operand_note(symbols, mnemonic, operands, following), "cyan"),
                                   (note, "bold"), end=""))
    return Lines(len(texts), texts.__getitem__, 140, cursor, payload=[address for address, _, _ in decoded])


def _operand_note(symbols, mnemonic: str, operands: str, following: int | None) -> str:
    """What a branch's target or a RIP-relative operand names, as gdb adds it."""
    if mnemonic.startswith(("call", "j", "b")) and _HEX_TARGET.match(operands.strip()):
        target = int(_HEX_TARGET.match(operands.strip()).group(1), 16)
        label = symbols.label(target)
        return f" {label}" if label else ""
    match = _RIP_RELATIVE.search(operands)
    if match and following is not None:
        displacement = int(match.group(2), 16) * (1 if match.group(1) == "+" else -1)
        target = following + displacement
        label = symbols.label(target)
        return f"   # 0x{target:x}" + (f" {label}" if label else "")
    return ""
