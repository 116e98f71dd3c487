"""runtime.ui_proxy changes one thing in the Temporal Web UI's settings: credentials go to
the codec."""

from __future__ import annotations

import json

from runtime.ui_proxy import with_credentials


def test_the_codec_is_told_to_include_credentials_and_nothing_else_changes() -> None:
    codec = {"Endpoint": "http://127.0.0.1:8000/codec", "IncludeCredentials": False}
    settings = {"Auth": {"Enabled": False}, "Codec": codec, "Version": "2.54.1"}
    changed = json.loads(with_credentials(json.dumps(settings).encode()))
    assert changed["Codec"]["IncludeCredentials"] is True
    assert changed == {**settings, "Codec": {**codec, "IncludeCredentials": True}}


def test_without_a_codec_endpoint_the_settings_pass_unchanged() -> None:
    settings = {"Codec": {"Endpoint": "", "IncludeCredentials": False}}
    assert json.loads(with_credentials(json.dumps(settings).encode())) == settings
