"""The federation fixtures (a key folder per test, a fake network, a paired remote), so that
pairing, removal, rotation and signature refusals can be audited here too."""

from tests.federation.conftest import (  # noqa: F401 - fixtures
    _federation_sandbox,
    fake_client,
    identity,
    paired,
    remote,
    transport,
)
