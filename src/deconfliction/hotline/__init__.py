"""The hotline between duty officers: message templates and the tamper-evident record.

- ``deconfliction.hotline.templates``: messages rendered from facts in English,
  Russian and Arabic, from gettext catalogs (Babel) read at run time;
  ``deconfliction.hotline.catalogs`` maintains those catalogs (not used at run time).
- ``deconfliction.hotline.record``: an append-only log whose entries are chained by
  SHA-256 and signed with Ed25519, with transcripts another party can verify.

Nothing is imported here, so that importing one does not load the other.
"""
