"""Exceptions of the warden package."""


class WardenError(Exception):
    """A bundle that cannot be loaded, or another Warden failure."""


class ServerError(WardenError):
    """The decision server answered with an error status (other than 400 for /v1/decide).

    Attributes: status (the HTTP status), code (the error code of the body's
    {"error": {"code": ...}}, or None), message (its message, or the raw body).
    """

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code or 'error'}: {message}")
        self.status = status
        self.code = code
        self.message = message
