"""How the gateway logs an exception no handler caught: method, path and the exception's type, nothing more.

Sanic's own handler logs the whole URL and the traceback. The URL's query can carry what a young person wrote (the
internal API's municipality lookup takes their words), and an exception's message can quote a value (a DataError,
a UnicodeEncodeError with the characters around the bad one). The response stays Sanic's 500.
"""

from __future__ import annotations

from sanic import Request
from sanic.handlers import ErrorHandler
from sanic.log import error_logger


class QuietErrorHandler(ErrorHandler):
    @staticmethod
    def log(request: Request, exception: Exception) -> None:
        if getattr(exception, "quiet", False) and not getattr(request.app.config, "NOISY_EXCEPTIONS", False):
            return  # Sanic's own 4xx exceptions: not failures of ours
        error_logger.error("unhandled %s on %s %s", type(exception).__name__, request.method, request.path)
