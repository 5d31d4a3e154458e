"""{{ project.title }}: a Django REST API."""
