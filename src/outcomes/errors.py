"""The package's own exceptions and warnings, in one place.

Every error a user can meet because of their data is an :class:`OutcomesError`; the CLI turns
it into a short message on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

__all__ = [
    "OutcomesError",
    "LoadError",
    "DefinitionsError",
    "AnalysisError",
    "ResultsFileError",
    "AuditError",
    "ReportError",
    "OutcomesWarning",
]


class OutcomesError(Exception):
    """Base class: a problem the user can fix; ``str(err)`` says what and how."""


class LoadError(OutcomesError):
    """A whole-file problem that stops a load.

    Parameters
    ----------
    message : str
        What is wrong, naming the file (and column, when there is one).
    fix : str, optional
        What to change in the export, or which option to use.
    file : str, optional
        The file (or workbook sheet) at fault.
    column : str, optional
        The column at fault, as written in the export.
    """

    def __init__(self, message: str, *, fix: str = "", file: str = "", column: str = ""):
        self.message, self.fix, self.file, self.column = message, fix, file, column
        super().__init__(f"{message} {fix}".strip())


class DefinitionsError(OutcomesError):
    """A definitions file that cannot be read or holds an unknown or invalid setting."""


class AnalysisError(OutcomesError):
    """An analysis that cannot be done with the data given (e.g. a cut-off before any session)."""


class ResultsFileError(OutcomesError):
    """A results file (``results.json``) that is corrupted, of another format version,
    holds patient-level content, or whose definitions do not match others in a pool."""


class AuditError(OutcomesError):
    """An audit input that cannot be used: a standards or actions file, or an earlier
    quarter's results file given to a re-audit."""


class ReportError(OutcomesError):
    """A report that cannot be produced (e.g. no Jupyter kernel installed)."""


class OutcomesWarning(UserWarning):
    """Something the user should know that does not stop the work (raised with stacklevel=2)."""
