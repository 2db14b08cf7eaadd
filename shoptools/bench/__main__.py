import sys

from shoptools.bench.options import parse_settings
from shoptools.bench.runner import run

if __name__ == "__main__":
    sys.exit(run(parse_settings(sys.argv[1:])))
