"""Key files: `init_keys` creates only what is missing (0700 folder, 0600 files), never overwrites,
and the loaders fail clearly — naming $LAKEHOUSE_KEYS, the path and the fix, never the value."""

import stat

import pytest

from transforms.crypto import keys, sm2
from transforms.crypto.keys import (
    COLUMN_KEY,
    JOIN_KEY,
    KEY_FILES,
    PLATFORM_PRIVATE_KEY,
    PLATFORM_PUBLIC_KEY,
    MalformedKeyError,
    MissingKeyError,
    init_keys,
)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _contents(folder) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in KEY_FILES}


def test_init_creates_every_key_with_private_modes(tmp_path):
    folder = tmp_path / "nested" / "keys"
    assert init_keys(folder) == list(KEY_FILES)
    assert _mode(folder) == 0o700
    assert {_mode(folder / name) for name in KEY_FILES} == {0o600}
    assert len(keys.column_key(folder)) == 16
    assert len(keys.join_key(folder)) == 32
    private, public = keys.platform_private_key(folder), keys.platform_public_key(folder)
    assert sm2.public_key_of(private) == public
    assert sm2.verify(b"m", sm2.sign(b"m", private), public)


def test_init_is_idempotent_and_never_overwrites(tmp_path):
    init_keys(tmp_path)
    before = _contents(tmp_path)
    assert init_keys(tmp_path) == []
    assert _contents(tmp_path) == before

    (tmp_path / JOIN_KEY).unlink()
    (tmp_path / PLATFORM_PUBLIC_KEY).unlink()
    assert init_keys(tmp_path) == [JOIN_KEY, PLATFORM_PUBLIC_KEY]
    after = _contents(tmp_path)
    assert after[JOIN_KEY] != before[JOIN_KEY]  # a new key...
    assert {n: after[n] for n in (COLUMN_KEY, PLATFORM_PRIVATE_KEY, PLATFORM_PUBLIC_KEY)} == {
        n: before[n] for n in (COLUMN_KEY, PLATFORM_PRIVATE_KEY, PLATFORM_PUBLIC_KEY)
    }  # ...the others untouched, the public key derived again from the private key


def test_init_keeps_a_key_written_by_hand(tmp_path):
    (tmp_path / COLUMN_KEY).write_text("0123456789ABCDEFFEDCBA9876543210\n")
    assert COLUMN_KEY not in init_keys(tmp_path)
    assert keys.column_key(tmp_path) == bytes.fromhex("0123456789abcdeffedcba9876543210")


def test_init_refuses_a_public_key_without_its_private_key(tmp_path):
    (tmp_path / PLATFORM_PUBLIC_KEY).write_text(sm2.generate_keypair()[1])
    with pytest.raises(MissingKeyError, match="without its private key"):
        init_keys(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [PLATFORM_PUBLIC_KEY]  # nothing created


def test_init_refuses_a_mismatched_pair(tmp_path):
    (tmp_path / PLATFORM_PRIVATE_KEY).write_text(sm2.generate_keypair()[0])
    (tmp_path / PLATFORM_PUBLIC_KEY).write_text(sm2.generate_keypair()[1])
    with pytest.raises(MalformedKeyError, match="is not the public key of"):
        init_keys(tmp_path)
    assert COLUMN_KEY not in {p.name for p in tmp_path.iterdir()}


def test_init_refuses_a_private_key_out_of_range(tmp_path):
    (tmp_path / PLATFORM_PRIVATE_KEY).write_text("00" * 32)
    with pytest.raises(MalformedKeyError, match="out of range"):
        init_keys(tmp_path)


def test_folder_from_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.setenv(keys.KEYS_ENV, str(tmp_path / "from_env"))
    init_keys()
    assert (tmp_path / "from_env" / COLUMN_KEY).is_file()
    assert keys.column_key() == keys.column_key(tmp_path / "from_env")

    monkeypatch.delenv(keys.KEYS_ENV)
    monkeypatch.chdir(tmp_path)
    assert keys.keys_dir() == tmp_path / "keys"
    init_keys()
    assert keys.join_key() == keys.join_key(tmp_path / "keys")


@pytest.mark.parametrize(
    "loader", [keys.column_key, keys.join_key, keys.platform_private_key, keys.platform_public_key]
)
def test_missing_key_names_env_path_and_fix(tmp_path, loader):
    with pytest.raises(MissingKeyError) as info:
        loader(tmp_path)
    message = str(info.value)
    assert "$LAKEHOUSE_KEYS" in message
    assert str(tmp_path) in message
    assert "lakehouse keys init" in message


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ("0123456789abcdef", "16 hex digits"),
        ("0123456789abcdeffedcba98765432100", "33 hex digits"),
        ("sekrit-sekrit-sekrit-sekrit-abcd", "not hex"),
        ("", "an empty file"),
    ],
)
def test_malformed_key_is_a_clear_error_without_the_value(tmp_path, content, found):
    (tmp_path / COLUMN_KEY).write_text(content)
    with pytest.raises(MalformedKeyError, match=found) as info:
        keys.column_key(tmp_path)
    message = str(info.value)
    assert str(tmp_path / COLUMN_KEY) in message and "expected 32 hex digits" in message
    assert not content or content not in message
    with pytest.raises(MalformedKeyError):
        init_keys(tmp_path)  # init checks existing keys before creating anything
    assert [p.name for p in tmp_path.iterdir()] == [COLUMN_KEY]
    assert (tmp_path / COLUMN_KEY).read_text() == content


def test_binary_key_file_is_malformed(tmp_path):
    (tmp_path / JOIN_KEY).write_bytes(b"\xff\xfe" * 32)
    with pytest.raises(MalformedKeyError, match="not hex"):
        keys.join_key(tmp_path)
