"""RQ entry points: thin wrappers that take ids, never credentials or payloads."""
