from __future__ import annotations

import pytest

from crmbridge.connectors.bitrix24.auth import Webhook
from crmbridge.errors import ConfigError


def test_method_urls_carry_the_code_and_repr_does_not() -> None:
    hook = Webhook("https://example.bitrix24.com/rest/7/s3cr3tc0de")
    assert (
        hook.method_url("crm.deal.get")
        == "https://example.bitrix24.com/rest/7/s3cr3tc0de/crm.deal.get"
    )
    assert (hook.user_id, hook.portal, hook.secrets) == (
        7,
        "https://example.bitrix24.com",
        ["s3cr3tc0de"],
    )
    assert "s3cr3tc0de" not in repr(hook) + str(hook)


def test_a_portal_on_a_cyrillic_domain_behind_a_prefix() -> None:
    hook = Webhook("https://crm.компанія.укр/b24/rest/1/abc123/")
    assert hook.method_url("batch") == "https://crm.компанія.укр/b24/rest/1/abc123/batch"
    assert repr(hook) == "Webhook('https://crm.компанія.укр/b24/rest/1/***/')"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.bitrix24.com/rest/crm.deal.get",
        "https://example.bitrix24.com/rest/x/abc/",
        "ftp://example.bitrix24.com/rest/1/abc/",
        "example.bitrix24.com/rest/1/abc/",
    ],
)
def test_anything_else_is_a_config_error_that_does_not_echo_the_url(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Webhook(url)
    assert "abc" not in str(caught.value)
