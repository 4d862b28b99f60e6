"""Response headers every route carries, and error pages that leak nothing."""

from __future__ import annotations

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import HTTPException

# No inline script or style, no third-party origin: the page needs none.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def render_error(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    messages = {
        404: ("Page not found", "There is nothing at this address."),
        405: ("Method not allowed", "This address does not accept that request."),
        413: ("Request too large", "The request body is larger than this page accepts."),
    }
    title, message = messages.get(code, (error.name, "The request could not be handled."))
    return render_template("error.html", code=code, title=title, message=message), code


def render_internal_error(_error: Exception) -> tuple[str, int]:
    # The traceback goes to the log (Flask logs it); the visitor gets no detail.
    return render_template(
        "error.html", code=500, title="Something went wrong", message="Please try again shortly."
    ), 500


def install(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(Exception, render_internal_error)
