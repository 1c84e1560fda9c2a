"""Throughput of the national-crypto functions, for the benchmark (and the numbers in `sm2`).

`measure(seconds)` runs each operation repeatedly for about ``seconds`` (at least once) on fresh
random keys and data and returns operations or MB per second (1 MB = 10^6 bytes), one process; the
18 measurements take about 18 x ``seconds``. SM2 verify and decrypt are measured as `sm2` does
them (OpenSSL where available, `sm2.backend()`), in two threads of one process too (OpenSSL lets go
of the GIL), and beside them gmalglib's own and gmssl's (pure Python) to show what each choice is
worth; gmssl's public key is set as 128-hex x‖y after construction, past the ``lstrip("04")`` of
its constructor.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable

from gmssl import sm2 as gmssl_sm2

from transforms.crypto import sm2, sm3, sm4

BULK_BYTES = 1 << 20  # one call's worth of bulk SM3 / SM4 data
COLUMN_VALUES = 10_000  # ID-number-like strings per column call
MESSAGE = b"x" * 200  # about one licence record's canonical JSON


def _rate(operation: Callable[[], object], seconds: float) -> float:
    """Calls of ``operation`` per second over at least ``seconds`` (and at least one call)."""
    calls = 0
    start = time.perf_counter()
    while True:
        operation()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def _threaded_rate(operation: Callable[[], object], seconds: float, threads: int = 2) -> float:
    """Calls of ``operation`` per second, all ``threads`` together, each for about ``seconds``."""
    rates: list[float] = []
    workers = [
        threading.Thread(target=lambda: rates.append(_rate(operation, seconds)))
        for _ in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(rates)


def measure(seconds: float = 1.0) -> dict[str, float | str]:
    """SM2 sign / verify / decrypt per second (as `sm2` does them, gmalglib's own and gmssl's),
    SM4-ECB / CBC, SM3 and HMAC-SM3 MB/s on bulk data, and column encryption / HMAC values per
    second."""
    private, public = sm2.generate_keypair()
    signature = sm2.sign(MESSAGE, private)
    wrapped = sm2.encrypt(secrets.token_bytes(16), public)
    reference = gmssl_sm2.CryptSM2(private_key=private, public_key="", mode=0)
    reference.public_key = public[2:]  # x‖y, set past its lstrip("04")
    ref_signature = reference.sign_with_sm3(MESSAGE)
    ref_wrapped = reference.encrypt(secrets.token_bytes(16))
    gm_verifier = sm2._public(public)  # gmalglib's own objects (what `sm2` falls back to)
    gm_decrypter = sm2._private(private, sm2.DEFAULT_USER_ID)
    gm_signature = bytes.fromhex(signature)
    gm_wrapped = wrapped[:65] + wrapped[-32:] + wrapped[65:-32]  # its order: C1C3C2

    key, iv, join_key = os.urandom(16), os.urandom(16), os.urandom(32)
    data = os.urandom(BULK_BYTES)
    ecb, cbc = sm4.encrypt_ecb(data, key), sm4.encrypt_cbc(data, key, iv)
    values = [f"35010219{n:010d}" for n in range(COLUMN_VALUES)]
    encrypted_values = sm4.encrypt_column(values, key)

    def mb(operation: Callable[[], object]) -> float:
        return _rate(operation, seconds) * BULK_BYTES / 1e6

    def per_value(operation: Callable[[], object]) -> float:
        return _rate(operation, seconds) * COLUMN_VALUES

    return {
        "sm2_implementation": f"{sm2.backend()} (verify, decrypt), gmalglib (sign)",
        "sm2_sign_per_s": _rate(lambda: sm2.sign(MESSAGE, private), seconds),
        "sm2_verify_per_s": _rate(lambda: sm2.verify(MESSAGE, signature, public), seconds),
        "sm2_verify_2_threads_per_s": _threaded_rate(
            lambda: sm2.verify(MESSAGE, signature, public), seconds
        ),
        "sm2_decrypt_per_s": _rate(lambda: sm2.decrypt(wrapped, private), seconds),
        "gmalglib_sm2_verify_per_s": _rate(
            lambda: gm_verifier.verify(MESSAGE, gm_signature), seconds
        ),
        "gmalglib_sm2_decrypt_per_s": _rate(lambda: gm_decrypter.decrypt(gm_wrapped), seconds),
        "gmssl_sm2_sign_per_s": _rate(lambda: reference.sign_with_sm3(MESSAGE), seconds),
        "gmssl_sm2_verify_per_s": _rate(
            lambda: reference.verify_with_sm3(ref_signature, MESSAGE), seconds
        ),
        "gmssl_sm2_decrypt_per_s": _rate(lambda: reference.decrypt(ref_wrapped), seconds),
        "sm4_ecb_encrypt_mb_per_s": mb(lambda: sm4.encrypt_ecb(data, key)),
        "sm4_ecb_decrypt_mb_per_s": mb(lambda: sm4.decrypt_ecb(ecb, key)),
        "sm4_cbc_encrypt_mb_per_s": mb(lambda: sm4.encrypt_cbc(data, key, iv)),
        "sm4_cbc_decrypt_mb_per_s": mb(lambda: sm4.decrypt_cbc(cbc, key, iv)),
        "sm3_mb_per_s": mb(lambda: sm3.sm3_bytes(data)),
        "hmac_sm3_mb_per_s": mb(lambda: sm3.hmac_sm3(join_key, data)),
        "sm4_column_encrypt_values_per_s": per_value(lambda: sm4.encrypt_column(values, key)),
        "sm4_column_decrypt_values_per_s": per_value(
            lambda: sm4.decrypt_column(encrypted_values, key)
        ),
        "hmac_sm3_column_values_per_s": per_value(lambda: sm3.hmac_sm3_column(values, join_key)),
    }
