"""`python -m rnnexp`: the command line (rnnexp.cli)."""

from rnnexp.cli import main

if __name__ == "__main__":
    main()
