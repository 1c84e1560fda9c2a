"""The monthly bulletin (月通报; access.md "Monthly bulletin", seed 001 第三十六–三十七条): the month's
rankings and failed subjects of every domain that holds data, published as XLSX and PDF, recorded
in ``ops.publications`` with the Delta version of every table read, open to correction during the
publicity window (公示期), and reproducible later (``lakehouse report … --as-published DATE``).

- ``content`` — what a bulletin says: the domains' own report functions (telematics
  ``jobs/report.py``, freight ``report.py``, ride-hailing ``report.py``: the same numbers as
  ``lakehouse report``), ranks, the failed subjects, a jurisdiction's rows by GB/T 2260 prefix.
- ``render`` — the XLSX (openpyxl) and the PDF (reportlab, a CJK TrueType font) of a bulletin.
- ``publications`` — ``ops.publications`` (append-only): publish, correct inside the publicity
  window, list, and the publication of a day for ``--as-published``.

Reads every domain's reports (imports their report modules); no domain imports it.
"""
