"""Line sources for every list the UI shows, built from the model. Each is cheap to make:
lines are produced when they are drawn."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Callable

from rich.text import Text

from hydra.model.arch import DISPLAY_ORDER, WORD_BYTES
from hydra.model.crash import Crash, Frame, Thread
from hydra.model.text import printable
from hydra.tui.safe import assemble, safe

DIM = "dim"
BOLD = "bold"


@dataclass
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
    for thread in crash.threads:
        sp = thread.frames[0].sp if thread.frames else None
        if sp is not None and entry.start <= sp < entry.end:
            return f"[stack {thread.tid}]"
    module = crash.module_at(value)
    if module is not None:
        return f"{module.name}+0x{value - module.base:x}"
    return f"[{short_path(entry.path) or 'anon'} {entry.perms}]"


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
        label = region_label(crash, value) if value < 1 << 64 else None
        texts.append(assemble((f"{name:<9}", BOLD), (f"0x{value:0{digits}x}" if value < 1 << 64 else hex(value), ""),
                              "  ", (label or "", DIM)))
    note = "" if frame is None or frame.trust == "context" else f"recovered by {frame.trust} unwinding"
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
                              (f" {entry.offset:>10x} ", DIM), (entry.path or "", "")))
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
    """Rows of 16 bytes over every captured region, with a gap line between regions."""

    ROW = 16

    def __init__(self, crash: Crash):
        self.memory = crash.memory
        self.starts: list[int] = []    # first row index of each region
        self.rows = 0
        regions = self.memory.regions
        for position, region in enumerate(regions):
            self.starts.append(self.rows)
            self.rows += (region.size + self.ROW - 1) // self.ROW
            if not self._continues(position):
                self.rows += 1             # a gap line before the next region

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
        hex_part = " ".join(f"{b:02x}" for b in data).ljust(self.ROW * 3 - 1)
        text_part = "".join(chr(b) if 32 <= b < 127 else "." for b in data)
        return Text.assemble((f"{address:016x}", "bold"), "  ", hex_part, "  ", (text_part, "dim"),
                             (f"  {printable(region.kind)}" if row == 0 and not self._follows(position) else "",
                              "italic dim"), end="")

    def _follows(self, position: int) -> bool:
        return position > 0 and self._continues(position - 1)

    def lines(self, address: int | None = None) -> Lines:
        if not self.rows:
            return message("the snapshot holds no memory")
        cursor = self.row_of(address) if address is not None else None
        return Lines(self.rows, self.line, 16 + 2 + 48 + 2 + 16 + 8, cursor or 0)
