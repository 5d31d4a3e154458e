from io import StringIO

from django.core.management import call_command


def test_migrations_match_the_models(db: None) -> None:
    output = StringIO()
    # Exits with status 1 when a model changed without a migration.
    call_command("makemigrations", "--check", "--dry-run", stdout=output)
    assert "No changes detected" in output.getvalue()
