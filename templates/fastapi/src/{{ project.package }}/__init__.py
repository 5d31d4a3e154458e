"""{{ project.title }}: a FastAPI service scaffolded by labforge."""

import time

# When this process began to load the package, before any of its modules was read. In
# development /ready reports it, so a tool can tell whether the reloading server has picked up
# the latest edit of the source: it has once this is later than the edit.
LOADED_AT = time.time()
