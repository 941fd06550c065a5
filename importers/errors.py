"""The one error every importer raises: a file that cannot be read as a statement.

It names the file, and where it can, the line and the field, so that a person can open the
file and see what is wrong. ``code`` is stable (tests and clients match on it). Nothing is
stored when it is raised: parsing happens before, or inside, the storing transaction.
"""

from __future__ import annotations

from typing import Any


class ImportRejected(Exception):
    def __init__(
        self,
        reason: str,
        *,
        code: str,
        file_name: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.code = code
        self.file_name = file_name
        self.line = line
        self.field = field
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = [self.file_name or "the file"]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field}")
        return f"{', '.join(where)}: {self.reason}"

    def in_file(self, file_name: str) -> ImportRejected:
        """The same error, naming ``file_name`` (parsers raise it before they know the name)."""
        if self.file_name is None:
            self.file_name = file_name
            self.args = (self.message,)
        return self

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        details = {k: v for k, v in (("file", self.file_name), ("line", self.line)) if v is not None}
        if details:
            body["details"] = details
        return body
