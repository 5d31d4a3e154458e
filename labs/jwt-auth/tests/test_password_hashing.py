"""Hidden tests of the jwt-auth lab: passwords are stored as salted Argon2id hashes."""

# ruff: noqa: S101 (copied to .labforge/, outside the tests/ folder that allows assert)

from {{ project.package }}.security import hash_password, verify_password

PASSWORD = "s3cret-Passw0rd"


def test_the_stored_value_is_an_argon2id_hash() -> None:
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$"), hashed
    assert PASSWORD not in hashed


def test_each_hash_has_its_own_salt() -> None:
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_the_right_password_matches() -> None:
    assert verify_password(PASSWORD, hash_password(PASSWORD)) is True


def test_a_wrong_password_does_not_match() -> None:
    assert verify_password("wrong-Passw0rd", hash_password(PASSWORD)) is False


def test_a_stored_value_that_is_no_hash_does_not_match() -> None:
    assert verify_password(PASSWORD, PASSWORD) is False
    assert verify_password(PASSWORD, "") is False
