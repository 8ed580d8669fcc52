"""`python -m keras_vidgan` runs the `keras-vidgan` command line."""

import sys

from keras_vidgan.cli import main

sys.exit(main())
