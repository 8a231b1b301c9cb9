"""A reading of an app whose command starts a Python program: the ``Reading`` (reading.py: the shared state,
the command, the port) with the readers of the app's code joined to it: the container's module search, the
evaluator, the served app object and route discovery. Each job lives in its own module; this class only
joins them."""

from __future__ import annotations

from .evaluate import Evaluator
from .modules import ModuleSearch
from .reading import Reading
from .routes import RouteDiscovery
from .target import AppTarget


class Analysis(Reading, ModuleSearch, Evaluator, AppTarget, RouteDiscovery):
    @classmethod
    def carry_on(cls, reading: Reading) -> Analysis:
        """The reading of a command that starts Python, from here on following the app's code too."""
        reading.__class__ = cls  # the code readers add only methods: the same object keeps its state and notes
        return reading
