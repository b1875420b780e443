import sys

from mlreport.cli import main

sys.exit(main())
