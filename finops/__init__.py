"""FinOps Pack: a self-hosted AWS savings review through a read-only role."""

__version__ = "0.1.0"
