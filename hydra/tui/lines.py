"""Line sources for every list the UI shows, built from the model. Each is cheap to make:
lines are produced when they are drawn."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from rich.text import Text

from hydra.model.arch import DISPLAY_ORDER, WORD_BYTES
from hydra.model.crash import Crash, Frame, Thread, Trust
from hydra.model.gdbstyle import eflags_text
from hydra.model.record import field, record
from hydra.model.regions import label_of
from hydra.model.text import printable
from hydra.tui.safe import assemble, safe

DIM = "dim"
BOLD = "bold"


@record
class Lines:
    count: int
    line: Callable[[int], Text]
    width: int = 120
    cursor: int = 0
    plain: Callable[[int], str] | None = None
    payload: list = field(default_factory=list)   # what each line stands for, when it matters


def from_texts(texts: list[Text], cursor: int = 0, payload: list | None = None) -> Lines:
    width = max((t.cell_len for t in texts[:5000]), default=10)
    return Lines(len(texts), texts.__getitem__, width, cursor, payload=payload or [])


def message(text: str) -> Lines:
    """Hydra's words, which may quote dump text (made printable here)."""
    return from_texts([Text(printable(text), style="italic")])


def short_path(path: str | None) -> str:
    """The file name: after the last / or, for Windows modules in minidumps, \\."""
    return re.split(r"[/\\]", path or "")[-1]


def region_label(crash: Crash, value: int) -> str | None:
    """What a pointer-looking value points into: a module's symbol area, the stack, a map entry."""
    if value < 4096:
        return None
    entry = crash.map_entry_at(value)
    if entry is None:
        return None
    label = label_of(crash, entry)
    if label.startswith("[stack"):
        return label
    module = crash.module_at(value)
    if module is not None:
        return f"{module.name}+0x{value - module.base:x}"
    return label if label.startswith("[") else f"[{short_path(label) or 'anon'} {entry.perms}]"


# ---------------------------------------------------------------- registers

def registers(crash: Crash, frame: Frame | None, thread: Thread | None) -> Lines:
    values = dict(frame.registers if frame and frame.registers else (thread.registers if thread else {}))
    if not values:
        return message("no registers for this frame")
    order = list(DISPLAY_ORDER.get(crash.process.architecture, ()))
    digits = 2 * WORD_BYTES.get(crash.process.architecture, 8)
    names = [n for n in order if n in values] + sorted(n for n in values if n not in order)
    texts = []
    for name in names:
        value = values[name]
        label = None
        if name in ("rflags", "eflags"):
            label = eflags_text(value)
        elif value < 1 << 64:
            label = crash.symbols.label(value) or region_label(crash, value)
        texts.append(assemble((f"{name:<9}", BOLD), (f"0x{value:0{digits}x}" if value < 1 << 64 else hex(value), ""),
                              "  ", (label or "", DIM)))
    note = "" if frame is None or frame.trust == Trust.CONTEXT else f"recovered by {frame.trust} unwinding"
    if note:
        texts.append(Text(note, style="italic dim"))
    return from_texts(texts, payload=names)


# ---------------------------------------------------------------- memory map, modules

def memory_map(crash: Crash, address: int | None) -> Lines:
    if not crash.memory_map:
        return message("no memory map: the crash file does not hold one")
    texts = []
    cursor = 0
    for index, entry in enumerate(crash.memory_map):
        if address is not None and entry.start <= address < entry.end:
            cursor = index
        texts.append(assemble((f"{entry.start:016x}-{entry.end:016x}", ""), (f" {entry.perms:<5}", ""),
                              (f" {entry.offset:>10x} ", DIM), (label_of(crash, entry), "")))
    return from_texts(texts, cursor)


def modules(crash: Crash) -> Lines:
    if not crash.modules:
        return message("no modules")
    texts = []
    for module in crash.modules:
        symbols = Text("debug info", style="green") if module.has_symbols else Text("MISSING symbols", style="bold red")
        texts.append(Text.assemble(safe(f"{module.base:016x} {module.size:>10x} "), symbols, " ",
                                   safe(module.build_id or module.debug_id or "no build-id", DIM), " ", safe(module.path),
                                   end=""))
    return from_texts(texts)


def key_values(items: list[tuple[str, str]], empty: str) -> Lines:
    if not items:
        return message(empty)
    width = min(40, max(len(k) for k, _ in items))
    return from_texts([assemble((f"{k:<{width}}", BOLD), "  ", (str(v), "")) for k, v in items])


def attributes(crash: Crash) -> Lines:
    return key_values(sorted(crash.attributes.items()), "no attributes")


def system(crash: Crash) -> Lines:
    process = crash.process
    items = [("pid", str(process.pid)), ("command line", process.command_line or ""),
             ("executable", process.executable or ""), ("architecture", process.architecture),
             ("uid/gid", f"{process.uid}/{process.gid}"), ("threads", str(len(crash.threads))),
             ("core", f"{process.core_path} ({process.core_size} bytes)" if process.core_path else "")]
    for key, value in crash.system.items():
        if isinstance(value, (str, int, float)):
            items.append((key, str(value)))
        elif isinstance(value, dict):
            items.extend((f"{key}.{k}", str(v)) for k, v in value.items())
    return key_values([i for i in items if i[1]], "no system figures")


def classifiers(crash: Crash) -> Lines:
    items = [(c.name, c.detail) for c in crash.classifiers]
    severity = crash.attributes.get("severity")
    if severity:
        items.append(("severity", f"{severity} ({crash.attributes.get('severity.rule', '')})"))
    if crash.attributes.get("fingerprint"):
        items.append(("fingerprint", crash.attributes["fingerprint"]))
        items.append(("fingerprint frames", crash.attributes.get("fingerprint.frames", "")))
    return key_values(items, "no classifiers")


def annotations(crash: Crash) -> Lines:
    if not crash.annotations:
        return message("no annotations")
    texts = []
    for annotation in crash.annotations:
        style = {"error": "bold red", "warning": "yellow"}.get(annotation.severity, "")
        texts.append(assemble((f"{annotation.severity:<8}", style), (annotation.text, ""),
                              (f"  [{annotation.owner}]", DIM)))
    return from_texts(texts, payload=list(crash.annotations))


def kernel_frames(thread: Thread | None) -> Lines:
    if thread is None or not thread.kernel_frames:
        return message("no kernel frames were captured for this thread (cores do not hold them)")
    return from_texts([safe(line) for line in thread.kernel_frames])


# ---------------------------------------------------------------- memory hexdump

class HexDump:
    """Rows of 16 bytes over every captured region, with a gap line between regions; the
    bytes shown as bytes, 4-byte words or 8-byte giants (which are labelled `<symbol>`)."""

    ROW = 16
    UNITS = (1, 4, 8)

    def __init__(self, crash: Crash):
        self.crash = crash
        self.memory = crash.memory
        self.unit = 1
        self.starts: list[int] = []    # first row index of each region
        self.rows = 0
        regions = self.memory.regions
        for position, region in enumerate(regions):
            self.starts.append(self.rows)
            self.rows += (region.size + self.ROW - 1) // self.ROW
            if not self._continues(position):
                self.rows += 1             # a gap line before the next region

    def cycle_unit(self) -> str:
        self.unit = self.UNITS[(self.UNITS.index(self.unit) + 1) % len(self.UNITS)]
        return {1: "bytes", 4: "words", 8: "giants"}[self.unit]

    def _continues(self, position: int) -> bool:
        """Whether the next region starts where this one ends (a region stored in pieces)."""
        regions = self.memory.regions
        return (position + 1 < len(regions) and regions[position + 1].start == regions[position].end
                and regions[position].size % self.ROW == 0)

    def locate(self, index: int):
        position = bisect.bisect_right(self.starts, index) - 1
        region = self.memory.regions[position]
        row = index - self.starts[position]
        return region, row, position

    def row_of(self, address: int) -> int | None:
        region = self.memory.region_at(address)
        if region is None:
            return None
        position = self.memory.regions.index(region)
        return self.starts[position] + (address - region.start) // self.ROW

    def line(self, index: int) -> Text:
        region, row, position = self.locate(index)
        if row * self.ROW >= region.size:
            return Text(f"  -- end of {printable(region.kind)} region; next captured address below --", style="dim")
        address = region.start + row * self.ROW
        data = region.data[row * self.ROW : row * self.ROW + self.ROW]
        if self.unit == 1:
            cells = " ".join(f"{b:02x}" for b in data).ljust(self.ROW * 3 - 1)
        else:
            count = len(data) // self.unit
            words = [int.from_bytes(data[i * self.unit:(i + 1) * self.unit], "little") for i in range(count)]
            cells = " ".join(f"0x{w:0{2 * self.unit}x}" for w in words).ljust(
                (self.ROW // self.unit) * (2 * self.unit + 3) - 1)
            if self.unit == 8:
                labels = [self.crash.symbols.label(w) for w in words if w]
                cells += "  " + " ".join(label for label in labels if label)
        text_part = "".join(chr(b) if 32 <= b < 127 else "." for b in data)
        return Text.assemble((f"{address:016x}", "bold"), "  ", safe(cells), "  ", (text_part, "dim"),
                             (f"  {printable(region.kind)}" if row == 0 and not self._follows(position) else "",
                              "italic dim"), end="")

    def _follows(self, position: int) -> bool:
        return position > 0 and self._continues(position - 1)

    def lines(self, address: int | None = None) -> Lines:
        if not self.rows:
            return message("the snapshot holds no memory")
        cursor = self.row_of(address) if address is not None else None
        return Lines(self.rows, self.line, 16 + 2 + 48 + 2 + 16 + 8 + (60 if self.unit == 8 else 0), cursor or 0)


TELESCOPE_WORDS = 512
CHAIN = 4


def telescope(crash: Crash, start: int | None, sp: int | None = None) -> Lines:
    """pwndbg's telescope: each word from start, followed through the pointers it holds,
    each hop labelled (a symbol, a region) and a string shown where one begins."""
    if start is None:
        return message("no stack pointer to start from")
    texts = []
    payload = []
    for index in range(TELESCOPE_WORDS):
        address = start + 8 * index
        raw = crash.memory.read(address, 8)
        if raw is None:
            if index == 0:
                return message(f"0x{address:x} was not captured")
            break
        offset = f"{'sp' if sp is not None and address == sp else ''}+0x{address - start:x}"
        parts = [(f"{address:016x} ", BOLD), (f"{offset:>8} ", DIM)]
        parts += _chain(crash, int.from_bytes(raw, "little"))
        texts.append(assemble(*parts))
        payload.append(address)
    return from_texts(texts, payload=payload)


def _chain(crash: Crash, value: int) -> list:
    parts: list = []
    seen = set()
    for hop in range(CHAIN):
        label = crash.symbols.label(value) if value else None
        region = None if label else region_label(crash, value)
        parts += [("" if hop == 0 else " → ", DIM), (f"0x{value:x}", "")]
        if label:
            parts.append((f" {label}", "cyan"))
        elif region:
            parts.append((f" {region}", DIM))
        text = _string_at(crash, value)
        if text is not None:
            parts.append((f" {text}", "green"))
            break
        raw = crash.memory.read(value, 8) if value and value not in seen else None
        if raw is None:
            break
        seen.add(value)
        value = int.from_bytes(raw, "little")
    return parts


def _string_at(crash: Crash, address: int) -> str | None:
    """A C string of at least four printable characters at address, quoted, or None."""
    if address < 4096:
        return None
    data = bytearray()
    for byte in crash.memory.read_partial(address, 64):
        if byte is None or byte == 0:
            break
        data.append(byte)
    if len(data) < 4 or not all(32 <= b < 127 for b in data):
        return None
    return '"' + printable(data.decode("latin-1")) + ('…"' if len(data) >= 64 else '"')


MAX_RESULTS = 10_000


def search_memory(crash: Crash, query: str) -> tuple[bytes | None, str]:
    """What a Memory search looks for: `"text"`, `0x...` (a pointer value, 8 bytes little
    endian), or hex bytes (`de ad be ef`); (None, why) when it is none of these."""
    text = query.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].encode("utf-8", "surrogateescape"), "text"
    if text.lower().startswith("0x"):
        try:
            value = int(text, 16)
        except ValueError:
            return None, "not a number"
        if value >= 1 << 64:
            return None, "more than 64 bits"
        return value.to_bytes(8, "little"), "pointer"
    pairs = text.replace(" ", "")
    if pairs and len(pairs) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in pairs):
        return bytes.fromhex(pairs), "bytes"
    return None, "write \"text\", 0x... (a pointer) or hex bytes"


def memory_matches(crash: Crash, needle: bytes) -> Lines:
    """Every place the captured memory holds needle (up to MAX_RESULTS), each on a line."""
    texts, payload = [], []
    for region in crash.memory.regions:
        data = region.data
        position = data.find(needle)
        while position >= 0 and len(payload) < MAX_RESULTS:
            address = region.start + position
            label = crash.symbols.label(address) or region_label(crash, address) or ""
            texts.append(assemble((f"{address:016x}", BOLD), "  ", (printable(region.kind), DIM), "  ", (label, "")))
            payload.append(address)
            position = data.find(needle, position + 1)
    if not texts:
        return message("no match in the captured memory")
    texts.insert(0, Text(f"{len(payload)} matches (Enter shows one in Memory)", style="italic"))
    return from_texts(texts, cursor=1, payload=[None] + payload)
