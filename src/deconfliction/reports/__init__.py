"""The daily report: a day's sorties, conflicts, violations, closest approaches,
hotline traffic, open incidents and map, for one party (what it may see) or for the
operator (everything), as self-contained HTML and a PDF of it, in English, Russian
and Arabic.

``daily`` gathers the day from the store through the disclosure rules; ``charts``
draws the charts; ``render`` writes HTML and PDF; ``i18n`` holds the gettext
catalogs (``locale/<lang>/LC_MESSAGES/messages.po``).
"""
