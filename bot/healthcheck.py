"""``python -m bot.healthcheck [PORT]``: the container's health check, kept at this path for compose files
that name it. It lives in ``bot.surfaces.healthcheck``."""

import sys

from bot.surfaces.healthcheck import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
