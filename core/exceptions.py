"""Domain exceptions shared by the server apps; interfaces map them to HTTP, GraphQL and CLI errors."""


class OrchestraError(Exception):
    """Base class of the server's domain errors."""


class NotFound(OrchestraError):
    """The named object does not exist."""

    def __init__(self, kind: str, key: str):
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


class InvalidInput(OrchestraError):
    """Input failed validation; the message names the input and what was expected."""


class Conflict(OrchestraError):
    """The change conflicts with the object's current state."""
