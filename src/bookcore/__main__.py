"""``python -m bookcore``: the same command as the ``bookcore`` script."""

from bookcore.cli import main

if __name__ == "__main__":
    main()
