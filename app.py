"""WSGI entry point: ``gunicorn app:app`` or ``flask --app app run``."""

from finops.web import create_app

app = create_app()
