"""The server of labforge-test/mongo:nx: nx-27017 started like mongod, plus SCRAM authentication.

nx-27017 (PyPI) speaks the MongoDB wire protocol on top of SQLite, but has no authentication: a
client that sends credentials gets `KeyError: 'payload'` from pymongo, because nx-27017 answers
`saslStart` like any unknown command, with `{"ok": 1}`. The official mongo image creates a root
user from MONGO_INITDB_ROOT_USERNAME / MONGO_INITDB_ROOT_PASSWORD and runs mongod with --auth, and
labforge's defaults rely on that. So this module adds what is needed for those defaults:

* SCRAM-SHA-1 and SCRAM-SHA-256 (with mechanism negotiation and speculative authentication) for
  that one root user, whose authentication database is admin;
* created on first start from the environment and kept in the data directory (like the official
  image, a restarted container keeps the user it was initialised with);
* when the variables are set (mongod --auth), commands other than the handshake, ping and
  buildInfo need an authenticated connection (error 13, Unauthorized); wrong credentials fail
  with error 18, AuthenticationFailed.

Roles, createUser & co. are not emulated (nx-27017 answers them with ok: 1 and does nothing).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from neosqlite.options import JournalMode
from nx_27017.handler import NeoSQLiteHandler
from nx_27017.server import run_server_threaded
from pymongo.saslprep import saslprep

logger = logging.getLogger("labforge.nx_server")

AUTH_DB = "admin"
USERS_FILE = ".labforge-root-user.json"
# Commands mongod runs on unauthenticated connections (handshake, authentication, liveness).
PRE_AUTH_COMMANDS = frozenset(
    {
        "hello",
        "Hello",
        "isMaster",
        "ismaster",
        "saslStart",
        "saslContinue",
        "ping",
        "buildInfo",
        "buildinfo",
        "endSessions",
        "logout",
    }
)
# mechanism -> (hash name, PBKDF2 iterations (mongod's defaults), salt length)
MECHANISMS = {
    "SCRAM-SHA-1": ("sha1", 10000, 16),
    "SCRAM-SHA-256": ("sha256", 15000, 28),
}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _hmac(hash_name: str, key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hash_name).digest()


def _scram_password(mechanism: str, username: str, password: str) -> bytes:
    if mechanism == "SCRAM-SHA-1":  # MongoDB hashes the password first for SCRAM-SHA-1
        return hashlib.md5(f"{username}:mongo:{password}".encode()).hexdigest().encode()
    return saslprep(password).encode()


def make_credentials(username: str, password: str) -> dict[str, Any]:
    """The stored SCRAM keys of a user (what mongod keeps in admin.system.users)."""
    credentials: dict[str, Any] = {"user": username, "db": AUTH_DB}
    for mechanism, (hash_name, iterations, salt_length) in MECHANISMS.items():
        salt = secrets.token_bytes(salt_length)
        salted = hashlib.pbkdf2_hmac(
            hash_name, _scram_password(mechanism, username, password), salt, iterations
        )
        client_key = _hmac(hash_name, salted, b"Client Key")
        credentials[mechanism] = {
            "iterationCount": iterations,
            "salt": _b64(salt),
            "storedKey": _b64(hashlib.new(hash_name, client_key).digest()),
            "serverKey": _b64(_hmac(hash_name, salted, b"Server Key")),
        }
    return credentials


def load_credentials(data_dir: str) -> dict[str, Any] | None:
    """The root user of this data directory, created from the environment on first start."""
    path = os.path.join(data_dir, USERS_FILE)
    username = os.environ.get("MONGO_INITDB_ROOT_USERNAME")
    password = os.environ.get("MONGO_INITDB_ROOT_PASSWORD")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    if not (username and password):
        return None
    credentials = make_credentials(username, password)
    temporary = path + ".tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(credentials, f)
    os.replace(temporary, path)
    logger.warning("created root user %r (authentication database %s)", username, AUTH_DB)
    return credentials


def _scram_attributes(message: str) -> dict[str, str]:
    return dict(part.split("=", 1) for part in message.split(",") if "=" in part)


def _auth_failed(detail: str) -> dict[str, Any]:
    logger.warning("authentication failed: %s", detail)
    return {"ok": 0, "errmsg": "Authentication failed.", "code": 18, "codeName": "AuthenticationFailed"}


@dataclass
class _Conversation:
    conn_id: Any
    mechanism: str
    client_first_bare: str
    server_first: str
    nonce: str
    gs2_header: str
    skip_empty_exchange: bool
    server_signature: bytes = field(default=b"")


class AuthenticatingHandler(NeoSQLiteHandler):
    """nx-27017's command handler with SCRAM authentication of one root user."""

    def __init__(self, *args: Any, credentials: dict[str, Any] | None, require_auth: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._credentials = credentials
        self._require_auth = require_auth
        self._auth_lock = threading.Lock()
        self._authenticated: set[Any] = set()
        self._conversations: dict[int, _Conversation] = {}

    # --- entry points of nx-27017's server ------------------------------------------------------

    def handle_command(self, msg: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        command = self._body(msg)
        name = next(iter(command), "") if command else ""
        conn_id = msg.get("_conn_id")
        if name == "saslStart":
            return msg["request_id"], self._sasl_start(command, conn_id)
        if name == "saslContinue":
            return msg["request_id"], self._sasl_continue(command, conn_id)
        if name not in PRE_AUTH_COMMANDS and not self._is_authorized(conn_id):
            return msg["request_id"], self._unauthorized(name)
        request_id, response = super().handle_command(msg)
        if name in ("hello", "Hello", "isMaster", "ismaster") and response.get("ok"):
            self._add_handshake_auth(command, conn_id, response)
        return request_id, response

    def handle_insert(self, msg: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not self._is_authorized(msg.get("_conn_id")):
            command = self._body(msg)
            return msg["request_id"], self._unauthorized(next(iter(command), "insert"))
        return super().handle_insert(msg)

    def handle_query(self, msg: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        collection = msg.get("collection") or ""
        is_command = not collection or collection.endswith("$cmd")
        if not is_command and not self._is_authorized(msg.get("_conn_id")):
            return msg["request_id"], [self._unauthorized("find")]
        return super().handle_query(msg)  # commands go through handle_command

    def close_streams_for_connection(self, conn_id: Any) -> None:
        super().close_streams_for_connection(conn_id)
        with self._auth_lock:
            self._authenticated.discard(conn_id)
            for conversation_id in [k for k, c in self._conversations.items() if c.conn_id == conn_id]:
                del self._conversations[conversation_id]

    # --- authentication ---------------------------------------------------------------------------

    @staticmethod
    def _body(msg: dict[str, Any]) -> dict[str, Any]:
        return next((doc for kind, doc in msg.get("sections", []) if kind == "body"), {}) or {}

    def _is_authorized(self, conn_id: Any) -> bool:
        if not self._require_auth:
            return True
        with self._auth_lock:
            return conn_id in self._authenticated

    @staticmethod
    def _unauthorized(command_name: str) -> dict[str, Any]:
        return {
            "ok": 0,
            "errmsg": f"Command {command_name} requires authentication",
            "code": 13,
            "codeName": "Unauthorized",
        }

    def _add_handshake_auth(self, command: dict[str, Any], conn_id: Any, response: dict[str, Any]) -> None:
        creds = self._credentials
        if creds and command.get("saslSupportedMechs") == f"{AUTH_DB}.{creds['user']}":
            response["saslSupportedMechs"] = list(MECHANISMS)
        speculative = command.get("speculativeAuthenticate")
        if isinstance(speculative, dict) and "saslStart" in speculative:
            reply = self._sasl_start(speculative, conn_id, speculative.get("db", AUTH_DB))
            if reply.get("ok"):
                del reply["ok"]
                response["speculativeAuthenticate"] = reply

    def _sasl_start(self, command: dict[str, Any], conn_id: Any, db: str | None = None) -> dict[str, Any]:
        db = db or command.get("$db", AUTH_DB)
        mechanism = command.get("mechanism", "")
        if mechanism not in MECHANISMS:
            return {
                "ok": 0,
                "errmsg": f"Received authentication for mechanism {mechanism} which is not enabled",
                "code": 334,
                "codeName": "MechanismUnavailable",
            }
        client_first = bytes(command.get("payload", b"")).decode()
        gs2_header, _, client_first_bare = client_first.partition(",,")
        attributes = _scram_attributes(client_first_bare)
        username = attributes.get("n", "").replace("=2C", ",").replace("=3D", "=")
        creds = self._credentials
        if not creds or db != creds["db"] or username != creds["user"]:
            return _auth_failed(f"user {username!r}@{db} not found")
        if not gs2_header.startswith(("n", "y")) or not attributes.get("r"):
            return _auth_failed("malformed client-first message")
        stored = creds[mechanism]
        nonce = attributes["r"] + _b64(secrets.token_bytes(24))
        server_first = f"r={nonce},s={stored['salt']},i={stored['iterationCount']}"
        conversation_id = secrets.randbelow(2**31 - 1) + 1
        with self._auth_lock:
            self._conversations[conversation_id] = _Conversation(
                conn_id=conn_id,
                mechanism=mechanism,
                client_first_bare=client_first_bare,
                server_first=server_first,
                nonce=nonce,
                gs2_header=gs2_header + ",,",
                skip_empty_exchange=bool((command.get("options") or {}).get("skipEmptyExchange")),
            )
        return {"conversationId": conversation_id, "done": False, "payload": server_first.encode(), "ok": 1}

    def _sasl_continue(self, command: dict[str, Any], conn_id: Any) -> dict[str, Any]:
        conversation_id = command.get("conversationId")
        with self._auth_lock:
            conversation = self._conversations.get(conversation_id)
        if conversation is None or conversation.conn_id != conn_id:
            return _auth_failed("unknown SASL conversation")
        if conversation.server_signature:  # the optional empty last step
            with self._auth_lock:
                self._conversations.pop(conversation_id, None)
            return {"conversationId": conversation_id, "done": True, "payload": b"", "ok": 1}

        client_final = bytes(command.get("payload", b"")).decode()
        without_proof, _, proof = client_final.rpartition(",p=")
        attributes = _scram_attributes(without_proof)
        if attributes.get("r") != conversation.nonce:
            return _auth_failed("nonce mismatch")
        if attributes.get("c") != _b64(conversation.gs2_header.encode()):
            return _auth_failed("channel binding mismatch")

        hash_name = MECHANISMS[conversation.mechanism][0]
        stored = self._credentials[conversation.mechanism]
        auth_message = (
            f"{conversation.client_first_bare},{conversation.server_first},{without_proof}".encode()
        )
        stored_key = base64.b64decode(stored["storedKey"])
        client_signature = _hmac(hash_name, stored_key, auth_message)
        try:
            client_proof = base64.b64decode(proof, validate=True)
        except ValueError:
            return _auth_failed("malformed proof")
        if len(client_proof) != len(client_signature):
            return _auth_failed("malformed proof")
        client_key = bytes(a ^ b for a, b in zip(client_proof, client_signature))
        if not hmac.compare_digest(hashlib.new(hash_name, client_key).digest(), stored_key):
            return _auth_failed(f"wrong password for {self._credentials['user']!r}")

        server_signature = _hmac(hash_name, base64.b64decode(stored["serverKey"]), auth_message)
        with self._auth_lock:
            self._authenticated.add(conn_id)
            if conversation.skip_empty_exchange:
                self._conversations.pop(conversation_id, None)
            else:
                conversation.server_signature = server_signature
        payload = f"v={_b64(server_signature)}".encode()
        return {
            "conversationId": conversation_id,
            "done": conversation.skip_empty_exchange,
            "payload": payload,
            "ok": 1,
        }


def parse_mongod_arguments(argv: list[str]) -> argparse.Namespace:
    """The mongod options that matter here; others are reported and ignored."""
    parser = argparse.ArgumentParser(prog="mongod (nx-27017 stand-in)", allow_abbrev=False)
    parser.add_argument("--port", type=int, default=27017)
    parser.add_argument(
        "--bind_ip",
        default="0.0.0.0",
        help="first address of a comma-separated list; 0.0.0.0 by default (as --bind_ip_all)",
    )
    parser.add_argument("--bind_ip_all", action="store_true")
    parser.add_argument("--dbpath", default="/data/db")
    parser.add_argument(
        "--auth", action="store_true", help="require authentication without the env variables"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log every command (nx-27017's INFO log)"
    )
    args, ignored = parser.parse_known_args(argv)
    if ignored:
        logger.warning(
            "ignoring mongod arguments not supported by the nx-27017 stand-in: %s", " ".join(ignored)
        )
    if args.bind_ip_all:
        args.bind_ip = "0.0.0.0"
    args.bind_ip = args.bind_ip.split(",")[0].strip()
    return args


def main() -> None:
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = parse_mongod_arguments(sys.argv[1:])
    logging.getLogger("nx_27017").setLevel(logging.INFO if args.verbose else logging.WARNING)
    # neosqlite warns whenever it falls back from one aggregation strategy to another.
    logging.getLogger("neosqlite").setLevel(logging.INFO if args.verbose else logging.ERROR)
    os.makedirs(args.dbpath, exist_ok=True)

    credentials = load_credentials(args.dbpath)
    require_auth = args.auth or bool(os.environ.get("MONGO_INITDB_ROOT_USERNAME"))
    if require_auth and credentials is None:
        sys.exit(
            "error: --auth without a root user; set MONGO_INITDB_ROOT_USERNAME and MONGO_INITDB_ROOT_PASSWORD"
        )
    if credentials and os.environ.get("MONGO_INITDB_ROOT_USERNAME") not in (None, credentials["user"]):
        logger.warning(
            "%s already has root user %r; MONGO_INITDB_ROOT_USERNAME is ignored",
            args.dbpath,
            credentials["user"],
        )

    handler = AuthenticatingHandler(
        ":memory:",
        data_dir=args.dbpath,
        journal_mode=JournalMode.validate("WAL"),
        credentials=credentials,
        require_auth=require_auth,
    )
    # PID 1 gets no default signal handling: exit on SIGTERM/SIGINT (docker stop) explicitly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    print(
        f"nx-27017 (labforge-test/mongo:nx, a stand-in for mongod) starting on {args.bind_ip}:{args.port}, "
        f"data in {args.dbpath}, authentication {'required' if require_auth else 'not required'}",
        file=sys.stderr,
        flush=True,
    )
    try:
        run_server_threaded(args.bind_ip, args.port, handler, use_threading=False)
    finally:
        handler.close_all()


if __name__ == "__main__":
    main()
