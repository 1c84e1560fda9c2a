"""The errors of the national-crypto functions. Messages name lengths and forms, never key values."""

from __future__ import annotations


class CryptoError(ValueError):
    """Unusable input: a key of the wrong length or form, an empty message, a point off the curve."""


class DecryptionError(CryptoError):
    """A ciphertext that does not decrypt: bad length or padding, C1 off the curve, C3 mismatch.

    Freight maps it to result codes 3006 (SM2 key unwrap) and 3007 (SM4 payload), see freight.md.
    """
