"""电子证照 — electronic road-transport licences: the authorities' SM2 keys and the provincial
issuance feed landed, every signature verified, full history (SCD2) in silver, qualification
lookups for the other domains, 核验 and the operation-quality report (../shared/domain/licences.md)."""
