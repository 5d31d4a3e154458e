//! Turning a failed service's last log lines into a one-line diagnosis with a fix, for the
//! failures learners meet most. Pure text matching; no Docker here.

/// A known failure signature: any of `needles` in the logs (or the failure reason) means `advice`.
struct Signature {
    needles: &'static [&'static str],
    advice: &'static str,
}

const SIGNATURES: &[Signature] = &[
    Signature {
        needles: &["address already in use", "port is already allocated", "bind: address"],
        advice: "a port is in use: stop the process that holds it, or run `labforge up` again, which publishes the service on a free port",
    },
    Signature {
        needles: &["password authentication failed", "authentication failed", "auth failed", "Authentication failed"],
        advice: "authentication failed: the database volume was initialised with other credentials than .env holds now; restore the old .env, or run `labforge down --volumes` to start with an empty database",
    },
    Signature {
        needles: &["ModuleNotFoundError", "ImportError", "No module named"],
        advice: "Python import error: check the module path in the server command and that the package is listed in pyproject.toml (a dependency change rebuilds the image on the next `labforge up`)",
    },
    Signature {
        needles: &["SyntaxError", "IndentationError"],
        advice: "Python syntax error: fix the file and line named in the traceback above",
    },
    Signature {
        needles: &[
            "Connection refused",
            "could not connect to server",
            "the database system is starting up",
            "ServerSelectionTimeoutError",
            "connection failed",
        ],
        advice: "the app could not reach its database: check DATABASE_URL / MONGO_URL in .env (the host is the service name, e.g. `postgres`) and that the database service is ready",
    },
];

/// The advice for the first known signature found in `lines` or `reason`.
pub fn diagnose(lines: &[String], reason: &str) -> Option<&'static str> {
    SIGNATURES
        .iter()
        .find(|sig| sig.needles.iter().any(|n| reason.contains(n) || lines.iter().any(|l| l.contains(n))))
        .map(|sig| sig.advice)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn recognises_the_common_failures() {
        let import = lines("Traceback (most recent call last):\nModuleNotFoundError: No module named 'shopp'");
        assert!(diagnose(&import, "exited with code 1").unwrap().starts_with("Python import error"));
        let auth = lines("FATAL:  password authentication failed for user \"shop\"");
        assert!(diagnose(&auth, "").unwrap().starts_with("authentication failed"));
        let port = diagnose(&[], "driver failed programming external connectivity: Bind for 127.0.0.1:5432 failed: port is already allocated").unwrap();
        assert!(port.starts_with("a port is in use"), "{port}");
        // The user never passed `--strict-ports` when a start fails like this (with it, `up`
        // refuses before creating anything): the advice must not tell them to drop it.
        assert!(!port.contains("--strict-ports"), "{port}");
        assert!(
            diagnose(&lines("psycopg.OperationalError: connection failed: Connection refused"), "")
                .unwrap()
                .contains("DATABASE_URL")
        );
        assert_eq!(diagnose(&lines("all good"), "timed out"), None);
    }
}
