"""The WSGI entry point: `gunicorn {{ project.package }}.wsgi:app`."""

from .app import create_app

app = create_app()
