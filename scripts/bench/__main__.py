"""`python -m scripts.bench [--core]`: the HA benchmark, or the core one with --core."""

import sys

if len(sys.argv) > 1 and sys.argv[1] == "--core":
    del sys.argv[1]
    from .core import main as core_main

    sys.exit(core_main())

from .main import main

sys.exit(main())
