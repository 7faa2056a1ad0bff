"""How long a party's bearer token is valid, in days (``service.auth``).

Kept apart from ``auth`` so that the command line can show them in its options
without importing SQLAlchemy in every ``deconfliction`` process.
"""

from __future__ import annotations

# A token is issued for 90 days unless told otherwise: a stolen or forgotten token
# stops working on its own within a quarter, and the desks renew theirs with the
# season's duty roster. At most ten years.
DEFAULT_TOKEN_DAYS: int = 90
MAX_TOKEN_DAYS: int = 3650
