"""Every Delta table of the licences domain (电子证照): layer, location, partitions, retention, key."""

from __future__ import annotations

from transforms.lake.registry import Table

# fmt: off
TABLES: tuple[Table, ...] = (
    Table("bronze.licences__authorities",
          "Issuing authorities' SM2 public keys as received (key_id, authority, validity).",
          key=("_file_sm3", "_line")),
    Table("quarantine.licences__authorities", "Authority key lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("bronze.licences__issuance",
          "Signed licence records as received; personal fields and the signed text (canonical) "
          "only encrypted / hashed / masked.",
          key=("_file_sm3", "_line")),
    Table("quarantine.licences__issuance",
          "Licence records that failed the signature check (bad_signature / unknown_signer, "
          "伪造/篡改 suspects) or a field rule, and lines that could not be parsed.",
          key=("_file_sm3", "_line")),
    Table("silver.licences__authorities",
          "Registered authority keys (证照签发机关公钥), one per key_id, the record landed last wins.",
          key=("key_id",)),
    Table("silver.licences__licences",
          "Verified licence versions (电子证照) with full history (SCD2): each version valid from "
          "its issued_at until the earliest issued_at of a higher version of the same licence.",
          key=("licence_id", "version")),
    Table("silver.licences__records",
          "The records the operation-quality report counts: each verified version and each "
          "quarantined record once, with province, month, feed delay and outcome.",
          key=("_file_sm3", "_line")),
    Table("gold.licences__operation_quality",
          "Operation quality of the licence system per issuing province and month (dbt, 运行质量).",
          key=("province_code", "period")),
    Table("gold.licences__licences",
          "The current version of every verified licence, masked columns only (dbt, 证照台账).",
          key=("licence_id",)),
)
# fmt: on
