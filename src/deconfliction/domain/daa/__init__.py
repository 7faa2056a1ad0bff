"""Detect-and-avoid: DO-365 well-clear alerting and manoeuvre guidance (bands)."""
