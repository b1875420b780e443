"""``python -m mlreport`` and the ``mlreport`` command: the command line, handed to a warm zygote when one is named."""

import os
import sys


def entry() -> int:
    """Run the command line; ``mlreport run`` in a driver forked by the zygote ``MLREPORT_KERNEL_ZYGOTE`` names.

    The check comes before the driver is imported: a run handed over costs
    this process the standard library and the code fingerprint only
    (:mod:`mlreport.handoff`). Without a zygote, or when it refuses, the run
    happens here.
    """
    if len(sys.argv) > 1 and sys.argv[1] == "run" and os.environ.get("MLREPORT_KERNEL_ZYGOTE"):
        from mlreport.handoff import hand_off

        code = hand_off(sys.argv)
        if code is not None:
            return code
    from mlreport.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(entry())
