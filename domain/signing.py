"""Who may sign an offer and how a signature is confirmed: the legal representative's name as
typed (normalised) and a one-time code texted to the representative's registered mobile, with
its lifetime, its attempts and the codes an offer may ask for."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

SIGNING_CODE_LIFETIME = timedelta(minutes=10)
"""How long a code texted for an acceptance stays valid (签约验证码有效期)."""
SIGNING_CODE_ATTEMPTS = 5
"""Wrong codes a code tolerates; the fifth wrong one voids it and a new one must be asked for."""
SIGNING_CODES_PER_OFFER = 5
"""How many codes one offer may ask for (each voids the one before)."""

# The refusals of a signature, each about one field of the acceptance.
NAME_MISMATCH = "signer.name_mismatch"
CODE_MISSING = "signer.code_missing"
CODE_WRONG = "signer.code_wrong"
CODE_EXPIRED = "signer.code_expired"
CODE_VOID = "signer.code_void"
DOCUMENT_CHANGED = "signer.document_changed"
TOO_MANY_CODES = "signer.too_many_codes"

# Middle dots in names of minorities and foreigners (阿依古丽·买买提), however typed.
_MIDDLE_DOTS = str.maketrans(dict.fromkeys("・•‧∙⋅", "·"))


def normalised_name(name: str) -> str:
    """A name as signatures compare it: full-width folded to half-width (NFKC), every space
    (half- or full-width) removed, middle dots unified, case folded."""
    folded = unicodedata.normalize("NFKC", name).translate(_MIDDLE_DOTS)
    return "".join(folded.split()).casefold()


def signer_matches(typed: str, registered: str) -> bool:
    """Whether the typed name is the registered signer's (never for an empty name)."""
    mine = normalised_name(typed)
    return bool(mine) and mine == normalised_name(registered)


def mask_name(name: str) -> str:
    """A name with only its first character shown: ``杨*``, ``欧**``, ``J***``."""
    compact = "".join(name.split())
    return compact[:1] + "*" * max(len(compact) - 1, 1) if compact else ""
