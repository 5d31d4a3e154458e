#!/bin/sh
# Container entrypoint: apply database migrations (unless RUN_MIGRATIONS=0, as in Kubernetes,
# where an init container runs them once), then run the server command.
set -eu
{% if values.migrate_cmd and db != "none" %}
if [ "${RUN_MIGRATIONS:-1}" = "1" ]; then
    echo "entrypoint: applying database migrations" >&2
    {% for arg in values.migrate_cmd %}{{ arg | shell }}{% if not loop.last %} {% endif %}{% endfor %}
fi
{% endif %}
exec "$@"
