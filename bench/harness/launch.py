"""Start one command from a small process and report its resources.

The harness holds both simulators (up to 200,000 users), so it is big. On Linux a
child's peak RSS (``ru_maxrss``) keeps the high-water mark of the memory image it
was forked from across ``exec``: a command started straight from the harness would
report the harness's size. This launcher is started with ``python -S`` (no site
packages, a few MB), forks, and the child execs the command; the figure ``wait4``
returns is then the command's own.

Usage: ``python -S launch.py RESULT_FILE COMMAND...``; writes
``{"exit": code, "wall_s", "user_s", "sys_s", "maxrss_kb"}`` to RESULT_FILE.
"""

import json
import os
import sys
import time


def main() -> None:
    result_file, argv = sys.argv[1], sys.argv[2:]
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    with open(result_file, "w") as fh:
        json.dump({"exit": os.waitstatus_to_exitcode(status), "wall_s": wall, "user_s": usage.ru_utime,
                   "sys_s": usage.ru_stime, "maxrss_kb": usage.ru_maxrss}, fh)


if __name__ == "__main__":
    main()
