"""The HTTP gateway: FastAPI plumbing that both front ends share — the API (``api/``) and the
workbench (``web/``) — and that imports neither of them.

Why a package of its own: the request dependencies (application context, settings, database
session, Temporal client, the principal from a bearer token or the workbench's session cookie)
are FastAPI, so they cannot live in the framework-free ``services/``; they are not the API's
either, because the workbench needs them as much. Kept here, ``api/`` and ``web/`` both depend
on the gateway and on ``services/``, and neither depends on the other."""
