"""Fixtures shared by the unit tests: logged-in clients and a clean memory registry."""

import pytest
from rest_framework.test import APIClient

from syncapp.connections import forget_all
from syncapp.registries import memory


@pytest.fixture
def api_client(django_user_model):
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("ops"))
    return client


@pytest.fixture
def console(client, django_user_model):
    """Django's test client, logged in to the console."""
    client.force_login(django_user_model.objects.create_user("ops"))
    return client


@pytest.fixture
def fresh_memory():
    """Memory registries and cached adapters of no earlier test."""
    memory.STORES.clear()
    forget_all()
    yield
    memory.STORES.clear()
    forget_all()
