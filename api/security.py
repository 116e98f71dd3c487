"""Where the CLI still finds ``hash_password``, which lives in ``services.credentials`` with
the other credential helpers (cli/ is edited on another branch; new code imports the services
module)."""

from services.credentials import hash_password

__all__ = ["hash_password"]
