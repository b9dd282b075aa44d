"""Where a module's symbols are: `.sym` files in symbol-server layout, local ELF files by build-id."""

from __future__ import annotations

import functools
import os


def basename(path: str | None) -> str:
    """The file name of a Linux or Windows path."""
    return (path or "").replace("\\", "/").rsplit("/", 1)[-1]


def symbol_directories(explicit: list[str], config=None) -> list[str]:
    """--symbols, then HYDRA_SYMBOL_PATH (colon-separated), then the config's `symbols` (the
    user's config when none is given)."""
    if config is None:
        from hydra.config import load_config

        config = load_config()
    found = list(explicit)
    found += [part for part in os.environ.get("HYDRA_SYMBOL_PATH", "").split(":") if part]
    found += config.symbols
    seen: set[str] = set()
    return [d for d in found if not (d in seen or seen.add(d))]


# Both lookups are remembered for the process: a batch of dumps (`bt A B …`, `index`) asks
# about the same modules again and again; symbols added while a process runs are found by
# the next one.

def find_sym_file(directories: list[str], debug_file: str | None, debug_id: str | None,
                  code_file: str | None, code_id: str | None) -> str | None:
    """`<debug file>/<DEBUG ID>/<debug file without .pdb>.sym`, or the code file and code id."""
    return _find_sym_file(tuple(directories), debug_file, debug_id, code_file, code_id)


@functools.cache
def _find_sym_file(directories: tuple[str, ...], debug_file: str | None, debug_id: str | None,
                   code_file: str | None, code_id: str | None) -> str | None:
    candidates = []
    if debug_id:
        for name in dict.fromkeys(filter(None, (basename(debug_file), basename(code_file)))):
            stem = name[:-4] if name.lower().endswith(".pdb") else name
            candidates.append(os.path.join(name, debug_id.upper(), stem + ".sym"))
    if code_id and code_file:
        name = basename(code_file)
        candidates.append(os.path.join(name, code_id.upper(), name + ".sym"))
        candidates.append(os.path.join(name, code_id.lower(), name + ".sym"))
    for directory in directories:
        for candidate in candidates:
            path = os.path.join(directory, candidate)
            if os.path.isfile(path):
                return path
    return None


def find_elf_files(directories: list[str], code_file: str | None, build_id: str | None) -> tuple[str, str] | None:
    """(binary, file with DWARF) for a module, both matched by build-id."""
    return _find_elf_files(tuple(directories), code_file, build_id)


@functools.cache
def _find_elf_files(directories: tuple[str, ...], code_file: str | None,
                    build_id: str | None) -> tuple[str, str] | None:
    if not build_id:
        return None
    build_id = build_id.lower()
    name = basename(code_file)
    debug_name = f"{build_id[:2]}/{build_id[2:]}.debug"
    binaries, debug_files = [], []
    for directory in (*directories, "/usr/lib/debug"):
        debug_files.append(os.path.join(directory, ".build-id", debug_name))
        if name:
            binaries.append(os.path.join(directory, name))
            debug_files += [os.path.join(directory, name + ".debug"),
                            os.path.join(directory, ".debug", name + ".debug")]
    if code_file and code_file.startswith("/"):
        binaries.append(code_file)
    binary = next((path for path in binaries if _matches(path, build_id)), None)
    debug = next((path for path in debug_files if _matches(path, build_id)), None)
    if binary is None and debug is None:
        return None
    return binary or debug, debug or binary  # type: ignore[return-value]


def _matches(path: str, build_id: str) -> bool:
    if not os.path.isfile(path):
        return False
    from hydra.symbols.elffile import open_image     # here: most symbol folders hold no ELF file

    image = open_image(path)
    return image is not None and image.build_id is not None and image.build_id.lower() == build_id
