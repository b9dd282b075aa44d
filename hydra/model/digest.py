"""SHA-256 of short texts (fingerprints, cache keys) without loading OpenSSL.

hashlib's sha256 is OpenSSL's, and loading that library takes about 2 ms: as long as reading
a small minidump. CPython's own implementation (`_sha2` since 3.12, `_sha256` before) gives
the same digest and is as quick on a few hundred bytes. Whole files are still hashed through
hashlib, where OpenSSL's speed counts.
"""

from __future__ import annotations

try:
    from _sha2 import sha256
except ImportError:
    try:
        from _sha256 import sha256
    except ImportError:         # a Python built without them
        from hashlib import sha256


def sha256_hex(data: bytes) -> str:
    return sha256(data).hexdigest()
