"""`lakehouse keys init`: creates the missing keys, lists names only, never a key value."""

from click.testing import CliRunner

from orchestration.cli import main
from transforms.crypto.keys import COLUMN_KEY, KEY_FILES, KEYS_ENV, PLATFORM_PUBLIC_KEY


def test_keys_init_then_again(tmp_path):
    folder = tmp_path / "keys"
    first = CliRunner().invoke(main, ["keys", "init", "--keys", str(folder)])
    assert first.exit_code == 0, first.output
    assert [line.split() for line in first.output.splitlines()[1:]] == [
        ["created", name] for name in KEY_FILES
    ]
    assert str(folder) in first.output.splitlines()[0]
    values = [(folder / name).read_text().strip() for name in KEY_FILES]

    (folder / PLATFORM_PUBLIC_KEY).unlink()
    second = CliRunner().invoke(main, ["keys", "init"], env={KEYS_ENV: str(folder)})
    assert second.exit_code == 0, second.output
    assert "created  freight_platform_sm2.pub" in second.output
    assert "existed  column_sm4.key" in second.output
    assert [(folder / name).read_text().strip() for name in KEY_FILES] == values
    for value in values:
        assert value not in first.output + second.output


def test_keys_init_reports_a_malformed_key_without_traceback(tmp_path):
    (tmp_path / COLUMN_KEY).write_text("not-a-key")
    result = CliRunner().invoke(main, ["keys", "init", "--keys", str(tmp_path)])
    assert result.exit_code == 1
    assert "malformed" in result.output and str(tmp_path / COLUMN_KEY) in result.output
    assert "not-a-key" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
