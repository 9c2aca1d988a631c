"""``python -m data_scripts.fetch NAME --dest DATA_ROOT``: download (or take), check and unpack a
dataset into the folder the loaders read; the work is :mod:`reid_lib.data.fetch`'s."""

import sys

from reid_lib.data.fetch import main

if __name__ == "__main__":
    sys.exit(main())
