"""`python -m orchestration.cli`: the `lakehouse` command."""

from orchestration.cli import main

if __name__ == "__main__":
    main()
