"""{{ project.title }}: a FastAPI service scaffolded by labforge."""
