"""National cryptography (国密) shared by every domain; never imports a domain.

- `sm3` — SM3 digests of bytes and files (landing lineage, the tamper-evidence manifest) and
  HMAC-SM3 (the join hash of sensitive columns), through OpenSSL.
- `sm4` — SM4-ECB / CBC with PKCS#7 through OpenSSL (freight payloads), and the random-IV column
  encryption of sensitive fields.
- `sm2` — SM2 signatures (SM3, user id 1234567812345678, hex r‖s) and ``04‖C1‖C2‖C3`` encryption,
  through gmalglib; the measured choice over gmssl is in its docstring.
- `keys` — the key files in ``$LAKEHOUSE_KEYS`` (``lakehouse keys init``) and their loaders.
- `masking` — masked display of ID numbers, phones, names of persons, bank accounts.
- `bench` — throughput of all of these, for the benchmark.
- `errors` — `CryptoError` and `DecryptionError`.

Values are lowercase hex where the feeds carry hex (digests, signatures, keys) and bytes otherwise.
"""

from transforms.crypto.sm3 import sm3_bytes, sm3_file

__all__ = ["sm3_bytes", "sm3_file"]
