"""Host-side checks of labforge-test/mongo:nx for verify.sh, made with pymongo.

verify_mongo.py wait  PORT USER PASSWORD START  polls an authenticated ping every 100 ms for up
                                                to 30 s; prints the seconds since START (epoch)
verify_mongo.py write PORT USER PASSWORD        authentication checks, then inserts a document
verify_mongo.py read  PORT USER PASSWORD        the document written before is still there
verify_mongo.py crud  PORT                      insert/find/count without authentication
USER - stands for no credentials.
"""

import sys
import time

from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

TIMEOUT_S = 30
POLL_S = 0.1
DOCUMENT = {"_id": "survivor", "note": "written before the container was recreated"}


def client(port: int, user: str | None = None, password: str | None = None, **options) -> MongoClient:
    credentials = (
        {"username": user, "password": password, "authSource": "admin"} if user not in (None, "-") else {}
    )
    return MongoClient("127.0.0.1", port, **{"serverSelectionTimeoutMS": 2000, **credentials, **options})


def expect_failure(code: int, what: str, action) -> None:
    try:
        action()
    except OperationFailure as error:
        if error.code != code:
            sys.exit(f"{what}: expected error {code}, got {error.code}: {error}")
        return
    sys.exit(f"{what}: expected error {code}, but it succeeded")


def wait(port: int, user: str, password: str, start: float) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            with client(
                port,
                user,
                password,
                serverSelectionTimeoutMS=int(POLL_S * 1000),
                connectTimeoutMS=int(POLL_S * 1000),
            ) as c:
                c.admin.command("ping")
            break
        except PyMongoError as error:
            if time.monotonic() > deadline:
                sys.exit(f"no ping from 127.0.0.1:{port} within {TIMEOUT_S} s: {error}")
            time.sleep(POLL_S)
    print(f"{time.time() - start:.1f}")


def write(port: int, user: str, password: str) -> None:
    with client(port, user, password) as c:  # default mechanism negotiation: SCRAM-SHA-256
        items = c.labforge_verify.items
        items.insert_one(dict(DOCUMENT))
        if items.find_one({"_id": DOCUMENT["_id"]}) != DOCUMENT or items.count_documents({}) != 1:
            sys.exit(f"insert/find/count mismatch: {list(items.find())}")
    with client(port, user, password, authMechanism="SCRAM-SHA-1") as c:
        c.labforge_verify.items.find_one()
    with client(port, user, "wrong-password") as c:
        expect_failure(18, "wrong password", lambda: c.admin.command("ping"))
    with client(port) as c:
        c.admin.command("ping")  # needs no authentication, as with mongod
        expect_failure(13, "unauthenticated find", lambda: c.labforge_verify.items.find_one())


def crud(port: int) -> None:
    with client(port) as c:
        items = c.labforge_verify.items
        items.insert_one(dict(DOCUMENT))
        if items.find_one({"_id": DOCUMENT["_id"]}) != DOCUMENT or items.count_documents({}) != 1:
            sys.exit(f"insert/find/count mismatch without authentication: {list(items.find())}")


def read(port: int, user: str, password: str) -> None:
    with client(port, user, password) as c:
        found = c.labforge_verify.items.find_one({"_id": DOCUMENT["_id"]})
    if found != DOCUMENT:
        sys.exit(f"the document did not survive: found {found}")


def main() -> None:
    command, port, *rest = sys.argv[1:]
    if command == "crud":
        crud(int(port))
        return
    user, password, *rest = rest
    if command == "wait":
        wait(int(port), user, password, float(rest[0]))
    elif command == "write":
        write(int(port), user, password)
    elif command == "read":
        read(int(port), user, password)
    else:
        sys.exit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
