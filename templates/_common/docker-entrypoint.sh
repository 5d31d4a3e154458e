#!/bin/sh
{% if values.migrate_cmd and db != "none" and not values.serve_migrates %}
# Container entrypoint: apply database migrations (unless RUN_MIGRATIONS=0, as in Kubernetes,
# where an init container runs them once), then run the server command.
set -eu
if [ "${RUN_MIGRATIONS:-1}" = "1" ]; then
    echo "entrypoint: applying database migrations" >&2
    {% for arg in values.migrate_cmd %}{{ arg | shell }}{% if not loop.last %} {% endif %}{% endfor %}
fi
{% else %}
# Container entrypoint: runs the command given.{% if values.serve_migrates and db != "none" %} The server command applies the
# database migrations itself (unless RUN_MIGRATIONS=0), while it imports the app.{% endif %}
set -eu
{% endif %}
exec "$@"
