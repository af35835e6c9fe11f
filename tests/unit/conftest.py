"""Fixtures shared by the unit tests: logged-in clients and a clean memory registry."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from syncapp.connections import forget_all
from syncapp.registries import memory
from syncapp.roles import ADMIN, ensure_roles


@pytest.fixture
def user_with_role(django_user_model):
    """make(role, name): a user in one of the role groups (syncapp/roles.py)."""

    def make(role: str, name: str | None = None):
        ensure_roles()
        user = django_user_model.objects.create_user(name or role)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def api_client(user_with_role):
    """An API client of a user with the admin role."""
    client = APIClient()
    client.force_authenticate(user_with_role(ADMIN, "ops"))
    return client


@pytest.fixture
def console(client, user_with_role):
    """Django's test client, logged in to the console with the admin role."""
    client.force_login(user_with_role(ADMIN, "ops"))
    return client


@pytest.fixture
def fresh_memory():
    """Memory registries and cached adapters of no earlier test."""
    memory.STORES.clear()
    forget_all()
    yield
    memory.STORES.clear()
    forget_all()
