"""Security headers on every response, and secure cookies when the instance is served over TLS.

The Content-Security-Policy allows scripts and styles from this site's own files only: no
inline ``<script>``, ``style=`` or ``on*=`` attribute runs, so an injected tag can do nothing.
Responses that set a stricter policy of their own (attachment downloads: ``default-src 'none';
sandbox``) keep it.

"Served over TLS" is read from the configuration, not only from the request: behind a reverse
proxy that ends TLS, the application sees plain HTTP unless the proxy says otherwise. An
``https://`` ``INSTANCE_URL``, ``PREFERRED_URL_SCHEME = "https"`` or ``SESSION_COOKIE_SECURE``
turns on HSTS and the ``Secure`` flag of the session and remember-me cookies.
"""

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
# Browser features no page of ours uses.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
STRICT_TRANSPORT_SECURITY = "max-age=31536000"

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
}


def served_over_tls(app: Flask) -> bool:
    """Whether the configuration says this instance is reached over HTTPS."""
    return bool(
        app.config.get("PREFERRED_URL_SCHEME") == "https"
        or str(app.config.get("INSTANCE_URL", "")).startswith("https://")
        or app.config.get("SESSION_COOKIE_SECURE")
    )


def add_security_headers(response: Response) -> Response:
    """``after_request``: the headers above, without replacing a stricter one already set."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure or current_app.config["SERVED_OVER_TLS"]:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def init_app(app: Flask) -> None:
    """Register the headers and, over TLS, mark the cookies ``Secure``."""
    tls = served_over_tls(app)
    app.config["SERVED_OVER_TLS"] = tls
    if tls:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.after_request(add_security_headers)
