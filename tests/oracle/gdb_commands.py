"""Runs inside gdb (`gdb -batch -nx -x gdb_commands.py EXE CORE`, commands in the file named
by HYDRA_COMMANDS, one a line, each optionally prefixed `@FRAME `, a frame of the crashed
thread; frame 0 otherwise): prints, as JSON, what each command printed, or its error
message, as gdb words it."""

import json
import os

import gdb  # noqa: provided by gdb

gdb.execute("set pagination off")
gdb.execute("set width 0")
gdb.execute("set height 0")
gdb.execute("set print pretty off")
results = []
with open(os.environ["HYDRA_COMMANDS"]) as handle:
    lines = [line.rstrip("\n") for line in handle if line.strip()]
for line in lines:
    frame, command = "0", line
    if line.startswith("@"):
        frame, _, command = line[1:].partition(" ")
    try:
        gdb.execute(f"frame {frame}", to_string=True)
        text = gdb.execute(command, to_string=True)
        results.append({"command": command, "output": text})
    except gdb.error as error:
        results.append({"command": command, "error": str(error)})
print("HYDRA-COMMANDS " + json.dumps(results))
