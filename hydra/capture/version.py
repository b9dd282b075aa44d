"""The capture code's version, recorded in every snapshot it writes.

Bump it when what capture puts in a snapshot changes (a new field, a value found by a
better rule): the bundled samples record the version that made them, and a test fails
until `make samples` has made them again with today's code."""

CAPTURE_VERSION = 4   # 2: frames carry their CFA; 3: values in registers and pieces where drgn
                      # finds no scope; 4: an overflowed stack kept when sp is below it
