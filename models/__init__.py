"""The domain's language: enums, payloads, tables and settings."""
