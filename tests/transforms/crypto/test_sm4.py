"""SM4 through OpenSSL: the GB/T 32907 vectors, published ECB/CBC examples, gmssl both ways, clear
errors, and column encryption that is plain SM4-CBC under a random IV per value."""

import base64
import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm4 as gmssl_sm4

from transforms.crypto import sm4
from transforms.crypto.errors import CryptoError, DecryptionError

# GB/T 32907-2016 Appendix A: key = plaintext; one encryption, and 1,000,000 iterated encryptions
KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
ONCE = "681edf34d206965e86b3e94f536e4246"
MILLION = "595298c7c6fd271f0402f804c33d3f66"

# draft-ribose-cfrg-sm4-10 Appendix A.2.1.1 (ECB) and A.2.2.1 (CBC), example 1 (no padding there)
DRAFT_PLAIN = bytes.fromhex("aaaaaaaabbbbbbbbccccccccddddddddeeeeeeeeffffffffaaaaaaaabbbbbbbb")
DRAFT_IV = bytes.fromhex("000102030405060708090a0b0c0d0e0f")
DRAFT_ECB = "5ec8143de509cff7b5179f8f474b86192f1d305a7fb17df985f81c8482192304"
DRAFT_CBC = "78ebb11cc40b0a48312aaeb2040244cb4cb7016951909226979b0d15dc6a8f6d"


def _gmssl(key: bytes, mode: int) -> gmssl_sm4.CryptSM4:
    c = gmssl_sm4.CryptSM4()  # PKCS#7 padding by default
    c.set_key(key, mode)
    return c


def _raw_ecb(block: bytes, key: bytes) -> bytes:
    """SM4-ECB without padding, to build ciphertexts whose padding is wrong on purpose."""
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def test_gbt_32907_single_block():
    ciphertext = sm4.encrypt_ecb(KEY, KEY)
    assert ciphertext[:16].hex() == ONCE
    assert len(ciphertext) == 32  # a whole padding block follows a full block
    assert sm4.decrypt_ecb(ciphertext, KEY) == KEY


def test_gbt_32907_million_iterations():
    # CBC over zero blocks with IV = P gives C_1 = E(P), C_j = E(C_{j-1}): block 1,000,000 = E^10^6(P)
    ciphertext = sm4.encrypt_cbc(bytes(16 * 1_000_000), KEY, iv=KEY)
    assert ciphertext[-32:-16].hex() == MILLION  # the last block is the padding's


def test_draft_ribose_examples():
    assert sm4.encrypt_ecb(DRAFT_PLAIN, KEY)[:32].hex() == DRAFT_ECB
    assert sm4.encrypt_cbc(DRAFT_PLAIN, KEY, DRAFT_IV)[:32].hex() == DRAFT_CBC


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 1000])
def test_agrees_with_gmssl_both_ways(size):
    key, iv, data = os.urandom(16), os.urandom(16), os.urandom(size)
    ecb, cbc = sm4.encrypt_ecb(data, key), sm4.encrypt_cbc(data, key, iv)
    assert ecb == bytes(_gmssl(key, gmssl_sm4.SM4_ENCRYPT).crypt_ecb(data))
    assert cbc == bytes(_gmssl(key, gmssl_sm4.SM4_ENCRYPT).crypt_cbc(iv, data))
    assert bytes(_gmssl(key, gmssl_sm4.SM4_DECRYPT).crypt_ecb(ecb)) == data
    assert sm4.decrypt_ecb(ecb, key) == sm4.decrypt_cbc(cbc, key, iv) == data


@pytest.mark.parametrize("key", [b"", bytes(15), bytes(17), bytes(32), KEY.hex()])
def test_wrong_key_length_is_a_clear_error(key):
    with pytest.raises(CryptoError, match="SM4 key must be 16 bytes"):
        sm4.encrypt_ecb(b"x", key)
    with pytest.raises(CryptoError, match="SM4 key must be 16 bytes"):
        sm4.decrypt_column(["AAAA"], key)
    with pytest.raises(CryptoError, match="SM4 key must be 16 bytes"):
        sm4.encrypt_column(["x"], key)


def test_wrong_iv_length_is_a_clear_error():
    with pytest.raises(CryptoError, match="IV must be 16 bytes"):
        sm4.encrypt_cbc(b"x", KEY, bytes(8))


@pytest.mark.parametrize("last", [b"\x00", b"\x11", b"\x02\x03", b"\x03\x03"])
def test_bad_padding_is_a_decryption_error(last):
    block = b"A" * (16 - len(last)) + last
    with pytest.raises(DecryptionError, match="padding"):
        sm4.decrypt_ecb(_raw_ecb(block, KEY), KEY)


@pytest.mark.parametrize("size", [0, 15, 17])
def test_bad_length_is_a_decryption_error(size):
    with pytest.raises(DecryptionError, match="multiple of 16"):
        sm4.decrypt_ecb(bytes(size), KEY)


VALUES = ["350102199001011234", None, "", "张三", "13812345678", "x" * 47, "欧阳娜娜" * 5, None]


def test_column_round_trip_keeps_none():
    encrypted = sm4.encrypt_column(VALUES, KEY)
    assert [e is None for e in encrypted] == [v is None for v in VALUES]
    assert sm4.decrypt_column(encrypted, KEY) == VALUES
    assert sm4.encrypt_column([], KEY) == sm4.decrypt_column([], KEY) == []


def test_column_values_are_plain_cbc_under_their_own_iv():
    for value, text in zip(VALUES, sm4.encrypt_column(VALUES, KEY), strict=True):
        if value is None:
            continue
        raw = base64.b64decode(text)
        iv, ciphertext = raw[:16], raw[16:]
        assert sm4.decrypt_cbc(ciphertext, KEY, iv) == value.encode()
        plain = _gmssl(KEY, gmssl_sm4.SM4_DECRYPT).crypt_cbc(iv, ciphertext)
        assert bytes(plain).decode() == value
        assert len(raw) == 16 + (len(value.encode()) // 16 + 1) * 16


def test_column_encryption_is_not_deterministic():
    once, twice = sm4.encrypt_column(["350102199001011234"] * 2, KEY)
    assert once != twice
    assert sm4.encrypt_column(["350102199001011234"], KEY) != [once]


def test_column_decrypt_errors_name_the_position_not_the_value():
    good = sm4.encrypt_column(["350102199001011234"], KEY)[0]
    bad_padding = base64.b64encode(bytes(16) + _raw_ecb(b"B" * 16, KEY)).decode()
    cases = {
        "not base64": [good, "***not base64***"],
        "multiple of 16": [good, base64.b64encode(bytes(40)).decode()],
        "does not decrypt": [good, bad_padding],
    }
    for reason, column in cases.items():
        with pytest.raises(DecryptionError, match=reason) as info:
            sm4.decrypt_column(column, KEY)
        assert "value 1" in str(info.value)
        assert column[1] not in str(info.value)
