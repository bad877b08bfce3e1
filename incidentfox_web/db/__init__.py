"""Database backends: Django's own, with small changes documented in each module."""
