"""`python -m rnnexp`: the command line (rnnexp.cli). A Ctrl-C while the
command line's own modules (Hydra, OmegaConf) still load, before its signal
handling is in place, ends it the same way as later: one line, exit 130."""

import os
import sys

if __name__ == "__main__":
    try:
        from rnnexp.cli import main
    except KeyboardInterrupt:
        print("\nrnnexp: interrupted (SIGINT) while starting; nothing was run", file=sys.stderr)
        os._exit(130)
    main()
