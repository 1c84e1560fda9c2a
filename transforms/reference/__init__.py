"""Reference data shared by every domain; imports no domain.

- `divisions` — GB/T 2260 administrative divisions (福建省, its cities and every county, and the
  neighbouring 温州), with approximate centroids, the codes retired since 2014, and the
  ``reference/divisions`` landing records (contracts.md, freight.md "Landing").
- `identifiers` — check characters of the national identifiers the feeds carry: resident ID
  numbers (GB 11643), unified social credit identifiers (GB 32100) with their organisation code
  (GB 11714), vehicle identification numbers (GB 16735 / ISO 3779).
- `feeds` — the ``reference/divisions`` landing feed; `publish` — silver.reference__divisions
  from what was landed.
"""
