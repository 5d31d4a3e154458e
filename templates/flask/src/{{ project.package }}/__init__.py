"""{{ project.title }}: a Flask REST API."""
