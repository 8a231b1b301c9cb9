"""The syntax layer: tokenize -> document -> edits -> render. It knows no rules."""

from .document import Document, Instruction, Stage, expand_args, tokenize
from .edits import Edit, EditConflict, apply_edits
from .errors import DockerfileSyntaxError
from .tokenizer import LineKind

__all__ = [
    "Document",
    "DockerfileSyntaxError",
    "Edit",
    "EditConflict",
    "Instruction",
    "LineKind",
    "Stage",
    "apply_edits",
    "expand_args",
    "tokenize",
]
