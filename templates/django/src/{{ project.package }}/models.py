"""Database tables, as Django models.{% if auth == "jwt" %} Users are Django's own (`django.contrib.auth`).{% endif %}

After changing a model, generate a migration for it and review it:

    python manage.py makemigrations
"""

from django.db import models


class Item(models.Model):
    name = models.CharField(max_length=100)
    # null rather than Django's usual "": in the API, no description is `null`.
    description = models.CharField(max_length=1000, null=True, blank=True)
    quantity = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name
