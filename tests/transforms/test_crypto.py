"""SM3 through OpenSSL agrees with the GB/T 32905 vectors and with pure-Python gmssl."""

from gmssl import sm3

from transforms.crypto import sm3_bytes, sm3_file

ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
ABCD16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_gbt_32905_vectors():
    assert sm3_bytes(b"abc") == ABC
    assert sm3_bytes(b"abcd" * 16) == ABCD16


def test_agrees_with_gmssl_and_streams_files(tmp_path):
    data = bytes(range(256)) * 5000  # > one read chunk
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    assert sm3_file(path) == sm3_bytes(data) == sm3.sm3_hash(list(data))
