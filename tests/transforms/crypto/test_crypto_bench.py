"""The crypto benchmark returns a positive rate for every operation (nothing is timed here)."""

from transforms.crypto.bench import measure


def test_measure_returns_positive_rates():
    result = measure(seconds=0.001)
    assert result.pop("sm2_implementation").startswith("OpenSSL 3.")
    assert set(result) == {
        "sm2_verify_2_threads_per_s",
        "gmalglib_sm2_verify_per_s",
        "gmalglib_sm2_decrypt_per_s",
        *(
            f"{impl}sm2_{op}_per_s"
            for impl in ("", "gmssl_")
            for op in ("sign", "verify", "decrypt")
        ),
        *(f"sm4_{m}_{d}_mb_per_s" for m in ("ecb", "cbc") for d in ("encrypt", "decrypt")),
        "sm3_mb_per_s",
        "hmac_sm3_mb_per_s",
        "sm4_column_encrypt_values_per_s",
        "sm4_column_decrypt_values_per_s",
        "hmac_sm3_column_values_per_s",
    }
    assert all(isinstance(v, float) and v > 0 for v in result.values())
