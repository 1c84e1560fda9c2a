"""`lakehouse keys …`: the key material in $LAKEHOUSE_KEYS (names only; a key value is never shown)."""

from __future__ import annotations

from pathlib import Path

import click

from transforms.crypto.keys import KEY_FILES, KEYS_ENV, KeyFileError, init_keys, keys_dir


def register(main: click.Group) -> None:
    main.add_command(keys)


@click.group()
def keys() -> None:
    """Key files of the national crypto (国密): SM4 column key, HMAC-SM3 join key, the province
    freight platform's SM2 key pair."""


@keys.command("init")
@click.option(
    "--keys",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"Keys folder [default: ${KEYS_ENV}, else ./keys]. Keep it out of the repository.",
)
def init(folder: Path | None) -> None:
    """Create the keys folder (mode 0700) and every missing key file (mode 0600).

    Never overwrites a key: existing files are only checked, and listed as existed.
    """
    root = keys_dir(folder)
    try:
        created = init_keys(root)
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"keys folder {root}")
    for name in KEY_FILES:
        click.echo(f"  {'created' if name in created else 'existed'}  {name}")
