"""What the storage can hold: the bounds the schemas, the routes and the tokens check, so that
a value beyond them is refused with a 422 (or names no one) instead of failing in the database."""

{% if db == "mongo" %}
# The largest whole number MongoDB stores (a 64-bit integer): larger ones are refused.
MAX_INT = 2**63 - 1
{% elif db == "postgres" %}
# The largest value of PostgreSQL's `integer`, the type of ids and quantities.
MAX_INT = 2**31 - 1
{% else %}
# The bound of `--db postgres`'s integer columns, kept here so the API is the same for every
# storage.
MAX_INT = 2**31 - 1
{% endif %}
# Text without NUL characters, which PostgreSQL cannot store and no one means to send.
NO_NUL = r"^[^\x00]*$"
