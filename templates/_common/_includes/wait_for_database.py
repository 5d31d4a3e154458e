# Answers that waiting cannot change: wrong credentials, no such role or database.
REFUSALS = ("password authentication failed", "does not exist", "no pg_hba.conf entry")


def wait_for_database(database_url: str, timeout: float) -> None:
    """Returns once PostgreSQL at `database_url` accepts a connection. While it cannot be reached
    (not started, still initialising), tries again after 0.05 s, doubling up to 0.25 s, so the
    migration begins within a fraction of a second of the database being ready. Raises the last
    error after `timeout` seconds, or at once when the server refuses the login."""
    deadline = time.monotonic() + timeout
    pause, said = 0.05, False
    while True:
        try:
            psycopg.connect(database_url, connect_timeout=2).close()
            return
        except psycopg.OperationalError as error:
            refused = any(refusal in str(error) for refusal in REFUSALS)
            if refused or time.monotonic() + pause > deadline:
                raise
            if not said:
                logger.info("Waiting for the database: %s", str(error).splitlines()[0])
                said = True
        time.sleep(pause)
        pause = min(pause * 2, 0.25)
