"""The subscriptions tests' loopback SMTP server, mail delivery and client (one fixed client
address), for tests of the consent ledger."""

from tests.subscriptions.conftest import client, inbox, settings

__all__ = ["client", "inbox", "settings"]
