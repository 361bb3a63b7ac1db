"""Helpers shared by test_functions.py and test_attachments.py (functions, crons, domains, triggers).

Read-only users of support.py / conftest.py: everything specific to these two files lives here.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from scaleway_core.api import ScalewayException

from support import READY_DEADLINE, MockServer, ServerFactory, poll_until, uniq

FN = "/functions/v1beta1/regions/fr-par"
CB = "/containers/v1beta1/regions/fr-par"
C1 = "/containers/v1/regions/fr-par"

TS9_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$")
TS6_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
TS0_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

INVALID = "invalid argument(s)"

CRON_NOT_FOUND = {"message": "Cron was not found"}
DOMAIN_NOT_FOUND = {"message": "Domain was not found"}
FUNCTION_NOT_FOUND = {"message": "Function was not found"}
CONTAINER_NOT_FOUND = {"message": "Container was not found"}
NAMESPACE_NOT_FOUND = {"message": "Namespace was not found"}
TOKEN_NOT_FOUND = {"message": "Token was not found"}
TRIGGER_NOT_FOUND_GET = {"message": "trigger does not exist"}
DOMAIN_CONFLICT = {"message": "Domain already exist"}

SCHEDULE_ERROR = {
    "details": [
        {
            "argument_name": "schedule",
            "help_message": "schedule must be a cron expression of 5 fields, e.g. 5 4 * * *",
            "reason": "format",
        }
    ],
    "message": INVALID,
    "type": "invalid_arguments",
}
HOSTNAME_ERROR = {
    "details": [
        {"argument_name": "hostname", "help_message": "hostname must be a fully qualified domain name", "reason": "format"}
    ],
    "message": INVALID,
    "type": "invalid_arguments",
}
TIMEZONE_ERROR = {
    "details": [
        {
            "argument_name": "timezone",
            "help_message": "timezone must be an IANA time zone such as Europe/Paris",
            "reason": "format",
        }
    ],
    "message": INVALID,
    "type": "invalid_arguments",
}
B1_ONE_OF_ERROR = {
    "details": [
        {
            "argument_name": "scw_sqs_config",
            "help_message": "exactly one of scw_sqs_config, scw_nats_config and sqs_config must be set",
            "reason": "constraint",
        }
    ],
    "message": INVALID,
    "type": "invalid_arguments",
}


def required_error(argument: str) -> dict:
    return {
        "details": [{"argument_name": argument, "help_message": "required key not provided", "reason": "required"}],
        "message": INVALID,
        "type": "invalid_arguments",
    }


def trigger_not_found_delete(trigger_id: str) -> dict:
    return {"message": f"trigger does not exist: could not find trigger with id {trigger_id}"}


def v1_typed_not_found(resource: str, rid: str) -> dict:
    return {"message": "resource is not found", "resource": resource, "resource_id": rid, "type": "not_found"}


# --- errors through the SDK ------------------------------------------------------------------------------------------


def sdk_error(call: Callable[..., Any], *args, **kwargs) -> tuple[int, Any]:
    """Runs an SDK call that must fail with an HTTP error; returns (status, JSON body)."""
    with pytest.raises(ScalewayException) as info:
        call(*args, **kwargs)
    response = info.value.response
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    return response.status_code, response.json()


def expect(response, status: int, body: Any = None):
    """Asserts a raw `requests` answer's status (and exact JSON body when given); returns the decoded body."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    if status == 200 and not response.content:
        return None
    decoded = response.json()
    if body is not None:
        assert decoded == body, decoded
    return decoded


# --- zips ------------------------------------------------------------------------------------------------------------


def make_zip(files: dict[str, str]) -> bytes:
    """A real deflated zip archive built in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            zf.writestr(name, content)
    return buf.getvalue()


HANDLER_PY = 'def handle(event, context):\n    return {"body": "Hello from scw-mock e2e", "statusCode": 200}\n'


def sample_zip(marker: str = "") -> bytes:
    return make_zip({"handler.py": HANDLER_PY, "requirements.txt": "requests==2.32.3\n", "marker.txt": marker or uuid.uuid4().hex})


# --- setup -----------------------------------------------------------------------------------------------------------


def ready_namespace(server: MockServer, api: str, *, name: Optional[str] = None) -> dict:
    """Creates a namespace through raw HTTP (`cb`, `c1` or `fn`) and waits until it is ready."""
    ns = server.create_ns(api, {"name": name or uniq("att")})
    return server.wait_ready(api, ns["id"])


def new_function(server: MockServer, ns_id: str, **body) -> dict:
    body.setdefault("name", uniq("fn")[:20])
    body.setdefault("runtime", "python311")
    body["namespace_id"] = ns_id
    return expect(server.post(f"{FN}/functions", body), 200)


def new_cb_container(server: MockServer, ns_id: str, **body) -> dict:
    body.setdefault("name", uniq("c")[:20])
    body["namespace_id"] = ns_id
    return expect(server.post(f"{CB}/containers", body), 200)


def new_c1_container(server: MockServer, ns_id: str, **body) -> dict:
    body.setdefault("name", uniq("c")[:20])
    body.setdefault("image", "nginx:1.29.4-alpine")
    body["namespace_id"] = ns_id
    return expect(server.post(f"{C1}/containers", body), 200)


def endpoint_prefix(ns: dict) -> str:
    """`<prefix>` of a v1beta1 namespace (what follows `funcscw` in its registry endpoint)."""
    endpoint = ns["registry_endpoint"]
    head = "rg.fr-par.scw.cloud/funcscw"
    assert endpoint.startswith(head), endpoint
    return endpoint[len(head):]


def poll(fetch: Callable[[], Any], done: Callable[[Any], bool], deadline_s: float = READY_DEADLINE):
    value, _ = poll_until(fetch, done, deadline_s, interval=0.05)
    return value


class ModuleServers:
    """Dedicated servers for one test module (module scope: started once, stopped and checked at teardown)."""

    def __init__(self, workdir: Path):
        self.factory = ServerFactory(workdir)

    def start(self, **kw) -> MockServer:
        kw.setdefault("key_pool", 8)
        return self.factory(**kw)

    def stop_all(self) -> None:
        self.factory.stop_all()

