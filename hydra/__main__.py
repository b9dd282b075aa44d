"""The `hydra` command: the installed script and `python -m hydra` both start here."""

from hydra import collector


def main() -> None:
    collector.hold()        # before the rest of Hydra is imported: see hydra.collector
    from hydra.cli import console

    console()


if __name__ == "__main__":
    main()
