"""The WSGI entry point: `gunicorn {{ project.package }}.wsgi:application`."""

import os

{% if db == "none" %}
from django.core.management import call_command
{% endif %}
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{{ project.package }}.settings")

application = get_wsgi_application()
{% if db == "none" %}

# No database server: the SQLite file lives in this container, and a new container starts
# without one. Create or update its tables before serving.
call_command("migrate", interactive=False, verbosity=0)
{% endif %}
