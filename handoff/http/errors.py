"""How the gateway logs an exception no handler caught: method, path and the exception's type, nothing more.

Sanic's own handler logs the whole URL and the traceback. The URL's query can carry what a young person wrote (the
internal API's municipality lookup takes their words), and an exception's message can quote a value (a DataError,
a UnicodeEncodeError with the characters around the bad one). The response stays Sanic's 500.

Under /api/ a refusal made by Sanic's router (a path id that is not a number, a method the route lacks) gets the
same JSON error body as the API's own refusals, so a client reads one shape of error, never a text/plain page.
"""

from __future__ import annotations

from sanic import Request
from sanic.exceptions import SanicException
from sanic.handlers import ErrorHandler
from sanic.log import error_logger
from sanic.response import HTTPResponse, json

API_PREFIX = "/api/"
ROUTER_REFUSALS = {
    404: ("not_found", "見つかりません。"),
    405: ("method_not_allowed", "この操作はできません。"),
}


class QuietErrorHandler(ErrorHandler):
    @staticmethod
    def log(request: Request, exception: Exception) -> None:
        if getattr(exception, "quiet", False) and not getattr(request.app.config, "NOISY_EXCEPTIONS", False):
            return  # Sanic's own 4xx exceptions: not failures of ours
        error_logger.error("unhandled %s on %s %s", type(exception).__name__, request.method, request.path)

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        status = getattr(exception, "status_code", 500)
        if (isinstance(exception, SanicException) and status in ROUTER_REFUSALS
                and request.path.startswith(API_PREFIX)):
            self.log(request, exception)
            error, message = ROUTER_REFUSALS[status]
            response = json({"error": error, "message": message}, status=status, ensure_ascii=False)
            for name, value in (getattr(exception, "headers", None) or {}).items():
                response.headers[name] = value  # e.g. Allow on a 405
            return response
        return super().default(request, exception)
