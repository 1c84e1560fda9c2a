"""SM3 and HMAC-SM3 through OpenSSL agree with the published vectors and with pure-Python gmssl."""

import pytest
from gmssl import sm3

import transforms.crypto.sm3
from transforms.crypto import sm3_bytes, sm3_file
from transforms.crypto.errors import CryptoError
from transforms.crypto.sm3 import hmac_sm3, hmac_sm3_column

# GB/T 32905-2016 Appendix A
ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
ABCD16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"

# HMAC-SM3 of GM/T 0042-2015 Appendix D.3, as in OpenSSL test/recipes/30-test_evp_data/evpmac_sm3.txt
HMAC_VECTORS = [
    (
        bytes(range(1, 33)),
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" * 2,
        "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a",
    ),
    (
        bytes(range(1, 38)),
        b"\xcd" * 50,
        "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae",
    ),
    (
        b"\x0b" * 32,
        b"Hi There",
        "c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e",
    ),
]


def _gmssl_sm3(data: bytes) -> bytes:
    return bytes.fromhex(sm3.sm3_hash(list(data)))


def _hmac_by_hand(key: bytes, data: bytes) -> str:
    """RFC 2104 over gmssl's SM3 (block size 64 bytes): H((K^opad) || H((K^ipad) || data))."""
    if len(key) > 64:
        key = _gmssl_sm3(key)
    key = key.ljust(64, b"\0")
    inner = _gmssl_sm3(bytes(k ^ 0x36 for k in key) + data)
    return _gmssl_sm3(bytes(k ^ 0x5C for k in key) + inner).hex()


def test_gbt_32905_vectors():
    assert sm3_bytes(b"abc") == ABC
    assert sm3_bytes(b"abcd" * 16) == ABCD16


def test_agrees_with_gmssl_and_streams_files(tmp_path, monkeypatch):
    monkeypatch.setattr(transforms.crypto.sm3, "CHUNK", 4096)  # gmssl is slow: small chunks
    data = bytes(range(256)) * 50  # > three read chunks
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert sm3_file(path) == sm3_bytes(data) == sm3.sm3_hash(list(data))


@pytest.mark.parametrize(("key", "data", "expected"), HMAC_VECTORS)
def test_hmac_gmt_0042_vectors(key, data, expected):
    assert hmac_sm3(key, data) == expected
    assert _hmac_by_hand(key, data) == expected


@pytest.mark.parametrize("key_bytes", [1, 32, 64, 65, 200])  # short, join key, block, longer
def test_hmac_equals_rfc_2104_by_hand_on_gmssl_sm3(key_bytes):
    key = bytes((7 * i + 3) % 256 for i in range(key_bytes))
    for data in (b"", b"350102199001011234", bytes(range(256)) * 3):
        assert hmac_sm3(key, data) == _hmac_by_hand(key, data)


def test_hmac_column_keeps_none_and_hashes_each_value():
    key = bytes(range(32))
    values = ["350102199001011234", None, "张三", "350102199001011234", ""]
    out = hmac_sm3_column(values, key)
    assert out[1] is None
    assert out[0] == out[3] == hmac_sm3(key, values[0].encode())
    assert out[2] == _hmac_by_hand(key, "张三".encode())
    assert out[4] == hmac_sm3(key, b"")
    assert hmac_sm3_column(values, bytes(32))[0] != out[0]  # another key, another hash
    assert hmac_sm3_column([], key) == []


def test_empty_hmac_key_is_refused():
    with pytest.raises(CryptoError, match="empty"):
        hmac_sm3(b"", b"x")
    with pytest.raises(CryptoError, match="empty"):
        hmac_sm3_column(["x"], b"")
