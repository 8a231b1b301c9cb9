import sys

from .cli import main, program

# run as the program (`python -m dfix`), not by runpy on behalf of a caller that goes on afterwards
if sys.modules["__main__"].__dict__ is globals():
    program()
else:
    main()
