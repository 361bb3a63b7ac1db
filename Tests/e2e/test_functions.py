"""Functions v1beta1 through the official SDK's FunctionV1Beta1API: every method, including a real zip uploaded with
`requests` to the pre-signed upload URL and read back through the download URL."""

from __future__ import annotations

import datetime as dt
import io
import random
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from scaleway.function.v1beta1 import (
    CreateTriggerRequestMnqNatsClientConfig,
    CreateTriggerRequestMnqSqsClientConfig,
    CreateTriggerRequestSqsClientConfig,
    FunctionRuntime,
    Secret,
    UpdateTriggerRequestSqsClientConfig,
)

from attach_support import (
    CRON_NOT_FOUND,
    DOMAIN_CONFLICT,
    DOMAIN_NOT_FOUND,
    FN,
    FUNCTION_NOT_FOUND,
    HANDLER_PY,
    NAMESPACE_NOT_FOUND,
    SCHEDULE_ERROR,
    TOKEN_NOT_FOUND,
    TRIGGER_NOT_FOUND_GET,
    TS6_RE,
    TS9_RE,
    UUID_RE,
    ModuleServers,
    B1_ONE_OF_ERROR,
    endpoint_prefix,
    expect,
    make_zip,
    new_function,
    ready_namespace,
    required_error,
    sample_zip,
    sdk_error,
    trigger_not_found_delete,
)
from support import (
    ARGON_V1BETA1_PREFIX,
    DEFAULT_PROJECT,
    check_jwt,
    make_sdk,
    registry_prefix,
    round_to_micros,
    uniq,
    verifies,
)

SLOW_DELAY = 1.0  # --transition-delay of this module's dedicated server

FN_KEYS = {
    "id", "name", "namespace_id", "region", "description", "status", "environment_variables",
    "secret_environment_variables", "min_scale", "max_scale", "runtime", "memory_limit", "cpu_limit", "handler",
    "privacy", "domain_name", "http_option", "runtime_message", "sandbox", "tags", "timeout", "error_message",
    "build_message", "created_at", "updated_at", "ready_at", "private_network_id",
}  # fmt: skip
RUNTIME_KEYS = {
    "name", "language", "version", "default_handler", "code_sample", "status", "status_message", "extension",
    "implementation", "logo_url",
}  # fmt: skip
NO_RUNTIME = {
    "details": [{"argument_name": "runtime", "help_message": "runtime is required", "reason": "required"}],
    "message": "invalid argument(s)",
    "type": "invalid_arguments",
}
BAD_RUNTIME = {
    "details": [
        {
            "argument_name": "runtime",
            "help_message": "runtime must be one of the runtimes GET …/runtimes lists",
            "reason": "format",
        }
    ],
    "message": "invalid argument(s)",
    "type": "invalid_arguments",
}


def code_denied(action: str) -> dict:
    return {
        "details": [{"action": action, "resource": "function_code"}],
        "message": "insufficient permissions",
        "type": "permissions_denied",
    }


def ts_ns(ts: str) -> int:
    """RFC 3339 UTC with up to 9 fraction digits -> integer nanoseconds since the epoch."""
    base, _, frac = ts.rstrip("Z").partition(".")
    seconds = int(dt.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc).timestamp())
    return seconds * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def ts9(ns: int) -> str:
    seconds, nanos = divmod(ns, 1_000_000_000)
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def fn_get(server, fid: str) -> dict:
    return expect(server.get(f"{FN}/functions/{fid}"), 200)


def put_archive(url: str, archive: bytes, content_type: str = "application/octet-stream") -> requests.Response:
    """PUT to a pre-signed URL with `requests` (no API key: the URL is the authorisation, like S3)."""
    return requests.put(url, data=archive, headers={"Content-Type": content_type}, timeout=30)


def upload(sdk, fid: str, archive: bytes) -> None:
    up = sdk.fn.get_function_upload_url(function_id=fid, content_length=len(archive))
    headers = {name: values[0] for name, values in up.headers.items()}
    r = requests.put(up.url, data=archive, headers=headers, timeout=30)
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def fn_ns(server) -> dict:
    return ready_namespace(server, "fn")


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    servers = ModuleServers(tmp_path_factory.mktemp("functions-slow"))
    srv = servers.start(transition_delay=SLOW_DELAY)
    yield srv
    servers.stop_all()


# --- namespaces (smoke; the namespace suite covers the rest) ---------------------------------------------------------


def test_function_namespace_smoke(server, sdk):
    name = uniq("fns")
    created = sdk.fn.create_namespace(name=name, description="smoke", environment_variables={"GREETING": "hi"})
    assert (created.status, created.description, created.environment_variables) == ("pending", "smoke", {"GREETING": "hi"})
    ns = server.wait_ready("fn", created.id)
    assert ns["registry_endpoint"].startswith(f"rg.fr-par.scw.cloud/funcscw{registry_prefix(name)}")
    assert len(ns["registry_endpoint"]) == len(f"rg.fr-par.scw.cloud/funcscw{registry_prefix(name)}") + 8
    got = sdk.fn.get_namespace(namespace_id=created.id)
    assert (got.id, got.name, got.status, got.project_id) == (created.id, name, "ready", DEFAULT_PROJECT)
    listed = sdk.fn.list_namespaces(name=name)
    assert (listed.total_count, [n.id for n in listed.namespaces]) == (1, [created.id])
    assert [n.id for n in sdk.fn.list_namespaces_all(name=name)] == [created.id]
    updated = sdk.fn.update_namespace(namespace_id=created.id, description="changed")
    assert (updated.description, updated.status) == ("changed", "ready")  # metadata only
    updated = sdk.fn.update_namespace(namespace_id=created.id, environment_variables={"GREETING": "hello"})
    assert (updated.environment_variables, updated.status) == ({"GREETING": "hello"}, "pending")
    assert sdk.fn.delete_namespace(namespace_id=created.id).status == "deleting"
    assert sdk_error(sdk.fn.get_namespace, namespace_id=created.id) == (404, NAMESPACE_NOT_FOUND)


# --- create / get ----------------------------------------------------------------------------------------------------


def test_create_function_defaults_and_get(server, sdk, fn_ns):
    name = uniq("fn")
    f = sdk.fn.create_function(namespace_id=fn_ns["id"], name=name, runtime=FunctionRuntime.GO126)
    assert (f.status, f.runtime, f.handler, f.memory_limit, f.cpu_limit) == ("created", "go126", "Handle", 256, 140)

    raw = fn_get(server, f.id)
    assert set(raw) == FN_KEYS
    expected = {
        "id": f.id, "name": name, "namespace_id": fn_ns["id"], "region": "fr-par", "description": "", "status": "created",
        "environment_variables": {}, "secret_environment_variables": [], "min_scale": 0, "max_scale": 20,
        "runtime": "go126", "memory_limit": 256, "cpu_limit": 140, "handler": "Handle", "privacy": "public",
        "domain_name": f"{endpoint_prefix(fn_ns)}-{name}.functions.fnc.fr-par.scw.cloud", "http_option": "enabled",
        "runtime_message": "", "sandbox": "v2", "tags": [], "timeout": "300s", "error_message": None,
        "build_message": None, "ready_at": None, "private_network_id": None,
    }  # fmt: skip
    assert {k: v for k, v in raw.items() if k not in ("created_at", "updated_at")} == expected
    assert TS6_RE.match(raw["created_at"]) and raw["updated_at"] == raw["created_at"], raw
    assert UUID_RE.match(f.id)

    # POST answers carry 9 fraction digits, the GET the same instant rounded to microseconds
    posted = expect(server.post(f"{FN}/functions", {"namespace_id": fn_ns["id"], "name": uniq("fn"), "runtime": "node22"}), 200)
    assert set(posted) == FN_KEYS and TS9_RE.match(posted["created_at"]) and posted["updated_at"] == posted["created_at"]
    assert fn_get(server, posted["id"])["created_at"] == round_to_micros(posted["created_at"])

    got = sdk.fn.get_function(function_id=f.id)
    assert (got.id, got.name, got.status, got.domain_name, got.timeout) == (f.id, name, "created", expected["domain_name"], "300s")


def test_handler_defaults_follow_the_runtime_and_memory_sets_cpu(server, fn_ns):
    handlers = {"python311": "handler.handle", "node22": "handler.handle", "go124": "Handle", "rust185": "handler", "php84": "handler.handle"}
    for runtime, handler in handlers.items():
        f = new_function(server, fn_ns["id"], runtime=runtime)
        assert (f["runtime"], f["handler"]) == (runtime, handler)
    assert new_function(server, fn_ns["id"], runtime="go126", handler="main.Run")["handler"] == "main.Run"
    for memory, cpu in ((128, 70), (256, 140), (512, 280), (1024, 560), (2048, 1120)):
        f = new_function(server, fn_ns["id"], memory_limit=memory)
        assert (f["memory_limit"], f["cpu_limit"]) == (memory, cpu)


def test_create_function_errors(server, sdk, fn_ns):
    assert sdk_error(sdk.fn.create_function, namespace_id=fn_ns["id"], name=uniq("fn")) == (400, NO_RUNTIME)
    r = server.post(f"{FN}/functions", {"namespace_id": fn_ns["id"], "name": uniq("fn"), "runtime": "cobol85"})
    expect(r, 400, BAD_RUNTIME)
    missing = str(uuid.uuid4())
    assert sdk_error(sdk.fn.create_function, namespace_id=missing, runtime="python311") == (404, NAMESPACE_NOT_FOUND)
    # a container namespace is not a function namespace
    cns = server.create_ns("cb")
    assert sdk_error(sdk.fn.create_function, namespace_id=cns["id"], runtime="python311") == (404, NAMESPACE_NOT_FOUND)
    assert sdk_error(sdk.fn.get_function, function_id=missing) == (404, FUNCTION_NOT_FOUND)


def test_function_of_another_project_is_forbidden(server, sdk, other_sdk, fn_ns):
    f = new_function(server, fn_ns["id"])
    denied = {"details": [{"action": "read", "resource": "function"}], "message": "insufficient permissions", "type": "permissions_denied"}
    assert sdk_error(other_sdk.fn.get_function, function_id=f["id"]) == (403, denied)
    assert fn_get(server, f["id"])["status"] == "created"


# --- list ------------------------------------------------------------------------------------------------------------


def test_list_functions_filter_paging_order_and_name(server, sdk):
    ns = ready_namespace(server, "fn")
    other = ready_namespace(server, "fn")
    names = ["delta-web", "alpha-api", "charlie-web", "bravo-job", "echo-api"]
    ids = [new_function(server, ns["id"], name=n)["id"] for n in names]
    new_function(server, other["id"], name="alpha-api")

    page = sdk.fn.list_functions(namespace_id=ns["id"])
    assert page.total_count == 5 and [f.id for f in page.functions] == ids  # SDK default order: created_at_asc
    assert all(f.namespace_id == ns["id"] for f in page.functions)
    assert [f.name for f in sdk.fn.list_functions(namespace_id=ns["id"], order_by="created_at_desc").functions] == names[::-1]
    assert [f.name for f in sdk.fn.list_functions(namespace_id=ns["id"], order_by="name_asc").functions] == sorted(names)
    assert [f.name for f in sdk.fn.list_functions(namespace_id=ns["id"], order_by="name_desc").functions] == sorted(names)[::-1]

    p2 = sdk.fn.list_functions(namespace_id=ns["id"], page=2, page_size=2)
    assert (p2.total_count, [f.id for f in p2.functions]) == (5, ids[2:4])
    p3 = sdk.fn.list_functions(namespace_id=ns["id"], page=3, page_size=2)
    assert (p3.total_count, [f.id for f in p3.functions]) == (5, ids[4:])
    assert sdk.fn.list_functions(namespace_id=ns["id"], page=4, page_size=2).functions == []

    web = sdk.fn.list_functions(namespace_id=ns["id"], name="WEB")  # case-insensitive substring
    assert (web.total_count, [f.name for f in web.functions]) == (2, ["delta-web", "charlie-web"])

    every = sdk.fn.list_functions_all(namespace_id=ns["id"], page_size=2)
    assert [f.id for f in every] == ids
    assert [f.name for f in sdk.fn.list_functions_all(namespace_id=ns["id"], name="api")] == ["alpha-api", "echo-api"]

    raw = expect(server.get(f"{FN}/functions", params={"namespace_id": ns["id"], "page_size": 1}), 200)
    assert list(raw) == ["functions", "total_count"] and raw["total_count"] == 5 and set(raw["functions"][0]) == FN_KEYS


# --- update / delete / deploy ----------------------------------------------------------------------------------------


def test_update_function_goes_pending_then_error_without_code(server, sdk, fn_ns):
    f = new_function(server, fn_ns["id"], runtime="go126", secret_environment_variables=[{"key": "KEEP", "value": "k1"}])
    updated = sdk.fn.update_function(
        function_id=f["id"], memory_limit=512, description="updated", environment_variables={"MODE": "prod"},
        secret_environment_variables=[Secret(key="API_KEY", value="s3cret")], tags=["a", "b"], runtime=FunctionRuntime.PYTHON312,
        timeout="60s", privacy="private", min_scale=1, max_scale=3,
    )  # fmt: skip
    assert updated.status == "pending"
    assert (updated.memory_limit, updated.cpu_limit, updated.description, updated.tags) == (512, 280, "updated", ["a", "b"])
    assert (updated.runtime, updated.handler, updated.timeout, updated.privacy) == ("python312", "handler.handle", "60s", "private")
    assert (updated.min_scale, updated.max_scale, updated.environment_variables) == (1, 3, {"MODE": "prod"})
    secrets = {s.key: s.hashed_value for s in updated.secret_environment_variables}
    assert list(secrets) == ["KEEP", "API_KEY"]  # v1beta1 merges
    assert all(h.startswith(ARGON_V1BETA1_PREFIX) for h in secrets.values())
    assert verifies(secrets["API_KEY"], "s3cret") and verifies(secrets["KEEP"], "k1")

    got = fn_get(server, f["id"])  # never deployed, no code: the redeploy fails
    assert (got["status"], got["error_message"], got["ready_at"]) == ("error", "internal error", None)
    assert ts_ns(got["updated_at"]) > ts_ns(got["created_at"])
    assert got["memory_limit"] == 512 and got["secret_environment_variables"] == [
        {"key": "KEEP", "hashed_value": secrets["KEEP"]},
        {"key": "API_KEY", "hashed_value": secrets["API_KEY"]},
    ]
    assert sdk_error(sdk.fn.update_function, function_id=str(uuid.uuid4()), description="x") == (404, FUNCTION_NOT_FOUND)


def test_delete_function(server, sdk, fn_ns):
    f = new_function(server, fn_ns["id"])
    r = expect(server.delete(f"{FN}/functions/{f['id']}"), 200)
    assert set(r) == FN_KEYS and r["status"] == "deleting" and r["id"] == f["id"] and TS9_RE.match(r["updated_at"])
    assert sdk_error(sdk.fn.get_function, function_id=f["id"]) == (404, FUNCTION_NOT_FOUND)
    assert sdk_error(sdk.fn.delete_function, function_id=f["id"]) == (404, FUNCTION_NOT_FOUND)
    assert f["id"] not in [x.id for x in sdk.fn.list_functions_all(namespace_id=fn_ns["id"])]

    g = sdk.fn.create_function(namespace_id=fn_ns["id"], runtime="python311")
    deleted = sdk.fn.delete_function(function_id=g.id)
    assert (deleted.id, deleted.status) == (g.id, "deleting")
    assert sdk_error(sdk.fn.deploy_function, function_id=g.id) == (404, FUNCTION_NOT_FOUND)


def test_deploy_without_code_ends_in_error(server, sdk, fn_ns):
    f = new_function(server, fn_ns["id"])
    r = expect(server.post(f"{FN}/functions/{f['id']}/deploy", {}), 200)
    assert (r["status"], r["error_message"], r["ready_at"]) == ("pending", None, None)
    assert TS9_RE.match(r["updated_at"]) and ts_ns(r["updated_at"]) > ts_ns(f["updated_at"])
    got = fn_get(server, f["id"])
    assert (got["status"], got["error_message"], got["ready_at"]) == ("error", "internal error", None)
    assert got["updated_at"] == round_to_micros(r["updated_at"])
    waited = sdk.fn.wait_for_function(function_id=f["id"])  # error is terminal
    assert (waited.status, waited.error_message) == ("error", "internal error")
    again = sdk.fn.deploy_function(function_id=f["id"])  # an errored function may be deployed again
    assert (again.status, again.error_message) == ("pending", None)
    assert sdk_error(sdk.fn.deploy_function, function_id=str(uuid.uuid4())) == (404, FUNCTION_NOT_FOUND)


def test_wait_for_function_returns_created_immediately(sdk, fn_ns):
    f = sdk.fn.create_function(namespace_id=fn_ns["id"], runtime="python311")
    # `created` is not transient for the SDK: the waiter's first read returns it
    assert sdk.fn.wait_for_function(function_id=f.id).status == "created"


# --- code: upload URL, real zip, deploy, download URL ----------------------------------------------------------------


def test_upload_real_zip_then_deploy_and_download(server, sdk, fn_ns):
    f = new_function(server, fn_ns["id"], runtime="python311")
    fid = f["id"]
    archive = sample_zip("first")
    assert zipfile.ZipFile(io.BytesIO(archive)).testzip() is None
    assert sdk_error(sdk.fn.get_function_download_url, function_id=fid) == (404, FUNCTION_NOT_FOUND)

    up = sdk.fn.get_function_upload_url(function_id=fid, content_length=len(archive))
    assert up.headers == {"content-length": [str(len(archive))], "content-type": ["application/octet-stream"]}
    assert up.url.startswith(f"{server.url}/") and fid in up.url
    raw = expect(server.get(f"{FN}/functions/{fid}/upload-url", params={"content_length": len(archive)}), 200)
    assert list(raw) == ["headers", "url"] and raw["url"] != up.url  # every URL is a fresh grant

    # a body of another size is refused and leaves the grant usable
    other = make_zip({"handler.py": "x = 1\n" * 50})
    assert len(other) != len(archive)
    expect(put_archive(up.url, other), 403, code_denied("write"))
    tampered = up.url[:-4] + ("0000" if not up.url.endswith("0000") else "1111")
    expect(put_archive(tampered, archive), 403, code_denied("write"))

    headers = {name: values[0] for name, values in up.headers.items()}
    r = requests.put(up.url, data=archive, headers=headers, timeout=30)
    assert r.status_code == 200 and r.content == b"" and r.headers["ETag"].startswith('"'), (r.status_code, r.text)
    expect(put_archive(up.url, archive), 403, code_denied("write"))  # one use
    assert fn_get(server, fid)["status"] == "created"  # uploading alone does not deploy

    down = sdk.fn.get_function_download_url(function_id=fid)
    assert down.url.startswith(f"{server.url}/") and down.headers == {}
    got = requests.get(down.url, timeout=30)
    assert got.status_code == 200 and got.headers["Content-Type"] == "application/zip"
    assert got.content == archive
    assert zipfile.ZipFile(io.BytesIO(got.content)).read("handler.py").decode() == zipfile.ZipFile(io.BytesIO(archive)).read("handler.py").decode()
    expect(requests.get(down.url.split("?")[0], timeout=30), 403, code_denied("read"))
    expect(requests.get(down.url.split("?")[0] + "?token=" + "ab" * 24, timeout=30), 403, code_denied("read"))

    deployed = expect(server.post(f"{FN}/functions/{fid}/deploy", {}), 200)
    assert (deployed["status"], deployed["ready_at"]) == ("pending", None)
    ready = fn_get(server, fid)
    assert (ready["status"], ready["error_message"]) == ("ready", None)
    assert ready["ready_at"] == ready["updated_at"] == round_to_micros(deployed["updated_at"])
    assert TS6_RE.match(ready["ready_at"])

    # new code replaces the old one
    second = sample_zip("second")
    upload(sdk, fid, second)
    assert requests.get(sdk.fn.get_function_download_url(function_id=fid).url, timeout=30).content == second


def test_upload_url_errors(server, sdk, fn_ns):
    f = new_function(server, fn_ns["id"])
    path = f"{FN}/functions/{f['id']}/upload-url"
    expect(server.get(path), 400, {
        "details": [{"argument_name": "content_length", "help_message": "content_length is required", "reason": "required"}],
        "message": "invalid argument(s)", "type": "invalid_arguments",
    })  # fmt: skip
    too = {
        "details": [{"argument_name": "content_length", "help_message": "content_length must be between 1 and 104857600 bytes",
                     "reason": "constraint"}],
        "message": "invalid argument(s)", "type": "invalid_arguments",
    }  # fmt: skip
    assert sdk_error(sdk.fn.get_function_upload_url, function_id=f["id"], content_length=0) == (400, too)
    assert sdk_error(sdk.fn.get_function_upload_url, function_id=f["id"], content_length=104857601) == (400, too)
    missing = str(uuid.uuid4())
    assert sdk_error(sdk.fn.get_function_upload_url, function_id=missing, content_length=10) == (404, FUNCTION_NOT_FOUND)
    assert sdk_error(sdk.fn.get_function_download_url, function_id=missing) == (404, FUNCTION_NOT_FOUND)


def test_large_archive_and_concurrent_use_of_one_upload_url(server, sdk, fn_ns):
    fid = new_function(server, fn_ns["id"])["id"]
    noise = random.Random(5).randbytes(3 * 1024 * 1024)  # incompressible: the zip is over 3 MiB
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("handler.py", HANDLER_PY)
        zf.writestr("assets/blob.bin", noise)
    archive = buf.getvalue()
    assert len(archive) > 3 * 1024 * 1024
    url = sdk.fn.get_function_upload_url(function_id=fid, content_length=len(archive)).url
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(f.result().status_code for f in [pool.submit(put_archive, url, archive) for _ in range(4)])
    assert statuses == [200, 403, 403, 403]  # a grant is used exactly once
    got = requests.get(sdk.fn.get_function_download_url(function_id=fid).url, timeout=30)
    assert got.status_code == 200 and got.content == archive
    assert zipfile.ZipFile(io.BytesIO(got.content)).read("assets/blob.bin") == noise


# --- runtimes --------------------------------------------------------------------------------------------------------


def test_list_function_runtimes(server, sdk):
    listed = sdk.fn.list_function_runtimes()
    sdk_names = [r.value for r in FunctionRuntime if r.value != "unknown_runtime"]
    assert listed.total_count == 41 == len(sdk_names)
    assert [r.name for r in listed.runtimes] == sdk_names
    raw = expect(server.get(f"{FN}/runtimes"), 200)
    assert list(raw) == ["runtimes", "total_count"] and raw["total_count"] == 41
    allowed = {"unknown_status", "beta", "available", "deprecated", "end_of_support", "end_of_life"}
    for entry in raw["runtimes"]:
        assert set(entry) == RUNTIME_KEYS, entry
        assert entry["status"] in allowed and entry["default_handler"] and entry["code_sample"], entry
    by_name = {e["name"]: e for e in raw["runtimes"]}
    assert {k: v for k, v in by_name["python311"].items() if k != "code_sample"} == {
        "name": "python311", "language": "Python", "version": "3.11", "default_handler": "handler.handle",
        "status": "available", "status_message": "", "extension": ".py", "implementation": "python", "logo_url": "",
    }  # fmt: skip
    assert (by_name["go126"]["default_handler"], by_name["go126"]["language"], by_name["go126"]["version"]) == ("Handle", "Go", "1.26")
    assert (by_name["rust185"]["default_handler"], by_name["node22"]["extension"]) == ("handler", ".js")
    assert {e["language"] for e in raw["runtimes"]} == {"Go", "Python", "Node", "PHP", "Rust"}


# --- crons of a function ---------------------------------------------------------------------------------------------


def test_function_crons(server, sdk, fn_ns):
    fid = new_function(server, fn_ns["id"])["id"]
    args = {"nested": {"list": [1, 2.5, True, None, "x"]}, "n": 3, "s": "é"}
    c = sdk.fn.create_cron(function_id=fid, schedule="5 4 * * *", args=args, name="nightly-fn")
    assert (c.function_id, c.schedule, c.args, c.name, c.status) == (fid, "5 4 * * *", args, "nightly-fn", "pending")
    raw = expect(server.get(f"{FN}/crons/{c.id}"), 200)
    assert raw == {"id": c.id, "function_id": fid, "schedule": "5 4 * * *", "args": args, "status": "ready", "name": "nightly-fn"}

    unnamed = sdk.fn.create_cron(function_id=fid, schedule="*/10 * * * *")
    assert (unnamed.name, unnamed.args) == (f"cron-{unnamed.id}", {})

    listed = sdk.fn.list_crons(function_id=fid)
    assert (listed.total_count, [x.id for x in listed.crons]) == (2, [c.id, unnamed.id])
    assert [x.id for x in sdk.fn.list_crons(function_id=fid, order_by="created_at_desc").crons] == [unnamed.id, c.id]
    assert [x.id for x in sdk.fn.list_crons_all(function_id=fid, page_size=1)] == [c.id, unnamed.id]

    upd = sdk.fn.update_cron(cron_id=c.id, schedule="0 12 * * MON-FRI")  # partial: args and name kept
    assert (upd.schedule, upd.args, upd.name, upd.status) == ("0 12 * * MON-FRI", args, "nightly-fn", "pending")
    upd = sdk.fn.update_cron(cron_id=c.id, args={"replaced": [True]})
    assert (upd.schedule, upd.args) == ("0 12 * * MON-FRI", {"replaced": [True]})
    assert sdk.fn.get_cron(cron_id=c.id).status == "ready"

    assert sdk_error(sdk.fn.create_cron, function_id=fid, schedule="61 * * * *") == (400, SCHEDULE_ERROR)
    assert sdk_error(sdk.fn.update_cron, cron_id=c.id, schedule="* * *") == (400, SCHEDULE_ERROR)
    assert sdk_error(sdk.fn.create_cron, function_id=str(uuid.uuid4()), schedule="5 4 * * *") == (404, FUNCTION_NOT_FOUND)

    # a function's cron is not a container's; the list needs a function
    expect(server.get(f"/containers/v1beta1/regions/fr-par/crons/{c.id}"), 404, CRON_NOT_FOUND)
    expect(server.get(f"{FN}/crons"), 400, required_error("function_id"))

    deleted = sdk.fn.delete_cron(cron_id=c.id)
    assert (deleted.id, deleted.status) == (c.id, "deleting")
    assert sdk_error(sdk.fn.get_cron, cron_id=c.id) == (404, CRON_NOT_FOUND)
    assert sdk_error(sdk.fn.delete_cron, cron_id=c.id) == (404, CRON_NOT_FOUND)
    assert [x.id for x in sdk.fn.list_crons(function_id=fid).crons] == [unnamed.id]


# --- domains of a function -------------------------------------------------------------------------------------------


def test_function_domains(server, sdk, fn_ns):
    fid = new_function(server, fn_ns["id"])["id"]
    host = f"{uniq('fd')}.example.com"
    d = sdk.fn.create_domain(function_id=fid, hostname=host.upper())
    assert (d.hostname, d.function_id, d.status, d.url, d.error_message) == (host, fid, "pending", "", None)
    raw = expect(server.get(f"{FN}/domains/{d.id}"), 200)
    assert raw == {"id": d.id, "hostname": host, "function_id": fid, "url": f"https://{host}", "status": "ready", "error_message": None}
    second = sdk.fn.create_domain(function_id=fid, hostname=f"a-{host}")
    listed = sdk.fn.list_domains(function_id=fid)
    assert (listed.total_count, [x.id for x in listed.domains]) == (2, [d.id, second.id])
    assert [x.hostname for x in sdk.fn.list_domains_all(function_id=fid, order_by="created_at_desc")] == [f"a-{host}", host]

    expect(server.get(f"{FN}/domains"), 400, required_error("function_id"))
    expect(server.get(f"/containers/v1beta1/regions/fr-par/domains/{d.id}"), 404, DOMAIN_NOT_FOUND)  # not a container's
    assert sdk_error(sdk.fn.create_domain, function_id=fid, hostname=host) == (409, DOMAIN_CONFLICT)
    assert sdk_error(sdk.fn.create_domain, function_id=str(uuid.uuid4()), hostname=f"b-{host}") == (404, FUNCTION_NOT_FOUND)
    deleted = sdk.fn.delete_domain(domain_id=d.id)
    assert (deleted.id, deleted.status) == (d.id, "deleting")
    assert sdk_error(sdk.fn.get_domain, domain_id=d.id) == (404, DOMAIN_NOT_FOUND)
    assert sdk_error(sdk.fn.delete_domain, domain_id=d.id) == (404, DOMAIN_NOT_FOUND)
    assert sdk.fn.create_domain(function_id=fid, hostname=host).hostname == host  # the hostname is free again


# --- triggers of a function ------------------------------------------------------------------------------------------


def test_function_triggers(server, sdk, fn_ns):
    fid = new_function(server, fn_ns["id"])["id"]
    sqs = sdk.fn.create_trigger(
        name="scw-sqs", function_id=fid, description="queue",
        scw_sqs_config=CreateTriggerRequestMnqSqsClientConfig(queue="orders", mnq_project_id=DEFAULT_PROJECT, mnq_region="fr-par"),
    )  # fmt: skip
    assert (sqs.status, sqs.input_type, sqs.description, sqs.function_id) == ("creating", "scw_sqs", "queue", fid)
    assert sqs.scw_sqs_config.mnq_credential_id is None and sqs.error_message is None

    r = server.post(f"{FN}/triggers", {
        "name": "scw-nats", "function_id": fid,
        "scw_nats_config": {"subject": "events", "mnq_nats_account_id": "AD6CMPHV", "mnq_project_id": DEFAULT_PROJECT, "mnq_region": "fr-par"},
    })  # fmt: skip
    nats = expect(r, 200)
    assert nats == {
        "id": nats["id"], "name": "scw-nats", "description": "", "input_type": "scw_nats", "status": "creating",
        "error_message": None, "function_id": fid,
        "scw_nats_config": {"subject": "events", "mnq_nats_account_id": "AD6CMPHV", "mnq_project_id": DEFAULT_PROJECT,
                            "mnq_region": "fr-par", "mnq_credential_id": None},
    }  # fmt: skip
    plain = sdk.fn.create_trigger(
        name="aws", function_id=fid,
        sqs_config=CreateTriggerRequestSqsClientConfig(endpoint="https://sqs.example", queue_url="https://sqs.example/q",
                                                       access_key="AKIA", secret_key="super-secret"),
    )  # fmt: skip
    assert (plain.input_type, plain.sqs_config.access_key, plain.sqs_config.secret_key) == ("sqs", "AKIA", None)

    got = expect(server.get(f"{FN}/triggers/{nats['id']}"), 200)
    assert got["status"] == "ready" and UUID_RE.match(got["scw_nats_config"]["mnq_credential_id"])
    assert expect(server.get(f"{FN}/triggers/{nats['id']}"), 200) == got  # the credential is stable
    raw_plain = expect(server.get(f"{FN}/triggers/{plain.id}"), 200)
    assert raw_plain["sqs_config"] == {"endpoint": "https://sqs.example", "queue_url": "https://sqs.example/q", "access_key": "AKIA"}
    assert "super-secret" not in server.get(f"{FN}/triggers", params={"function_id": fid}).text

    listed = sdk.fn.list_triggers(function_id=fid)
    assert (listed.total_count, [t.id for t in listed.triggers]) == (3, [sqs.id, nats["id"], plain.id])
    assert {t.status for t in listed.triggers} == {"ready"}
    assert [t.id for t in sdk.fn.list_triggers_all(namespace_id=fn_ns["id"]) if t.function_id == fid] == [sqs.id, nats["id"], plain.id]

    renamed = sdk.fn.update_trigger(trigger_id=sqs.id, name="renamed", description="")
    assert (renamed.name, renamed.description, renamed.status) == ("renamed", "", "ready")  # metadata only
    rekeyed = sdk.fn.update_trigger(trigger_id=plain.id, sqs_config=UpdateTriggerRequestSqsClientConfig(access_key="AKIB", secret_key="s2"))
    assert (rekeyed.status, rekeyed.sqs_config.access_key) == ("creating", "AKIB")  # functions say `creating` while transient
    assert sdk.fn.get_trigger(trigger_id=plain.id).status == "ready"

    expect(server.post(f"{FN}/triggers", {"name": "none", "function_id": fid}), 400, B1_ONE_OF_ERROR)
    deleted = sdk.fn.delete_trigger(trigger_id=nats["id"])
    assert (deleted.id, deleted.status) == (nats["id"], "deleting")
    assert deleted.scw_nats_config.mnq_credential_id == got["scw_nats_config"]["mnq_credential_id"]  # stays set
    assert sdk_error(sdk.fn.get_trigger, trigger_id=nats["id"]) == (404, TRIGGER_NOT_FOUND_GET)
    assert sdk_error(sdk.fn.delete_trigger, trigger_id=nats["id"]) == (404, trigger_not_found_delete(nats["id"]))


# --- tokens of a function --------------------------------------------------------------------------------------------


def test_function_token_is_a_jwt_for_the_function(server, sdk, fn_ns):
    fid = new_function(server, fn_ns["id"])["id"]
    token = sdk.fn.create_token(function_id=fid, description="fn token")
    assert (token.function_id, token.namespace_id, token.description, token.expires_at) == (fid, None, "fn token", None)
    claims = check_jwt(token.token, token.public_key, namespace_id="", application_id=fid, jti=token.id)
    assert claims["application_claim"] == [{"namespace_id": "", "application_id": fid}]
    ns_token = sdk.fn.create_token(namespace_id=fn_ns["id"])
    assert ns_token.public_key == token.public_key  # one key per namespace
    pem = server.get(f"/_mock/namespaces/{fn_ns['id']}/public-key", token=None)
    assert pem.status_code == 200 and pem.text == token.public_key

    got = sdk.fn.get_token(token_id=token.id)
    assert (got.token, got.public_key, got.function_id) == ("<hidden>", "", fid)
    assert [t.id for t in sdk.fn.list_tokens(function_id=fid).tokens] == [token.id]
    assert sdk_error(sdk.fn.create_token, function_id=str(uuid.uuid4())) == (404, FUNCTION_NOT_FOUND)
    assert sdk.fn.delete_token(token_id=token.id).status == "deleting"
    assert sdk_error(sdk.fn.get_token, token_id=token.id) == (404, TOKEN_NOT_FOUND)


# --- cascades --------------------------------------------------------------------------------------------------------


def test_deleting_a_function_deletes_its_crons_domains_triggers_and_tokens(server, sdk, fn_ns):
    fid = new_function(server, fn_ns["id"])["id"]
    host = f"{uniq('cascade')}.example.org"
    cron = sdk.fn.create_cron(function_id=fid, schedule="5 4 * * *")
    domain = sdk.fn.create_domain(function_id=fid, hostname=host)
    trigger = sdk.fn.create_trigger(
        name="t", function_id=fid,
        scw_sqs_config=CreateTriggerRequestMnqSqsClientConfig(queue="q", mnq_project_id=DEFAULT_PROJECT, mnq_region="fr-par"),
    )  # fmt: skip
    token = sdk.fn.create_token(function_id=fid)
    upload(sdk, fid, sample_zip())
    download = sdk.fn.get_function_download_url(function_id=fid).url
    assert requests.get(download, timeout=30).status_code == 200

    sdk.fn.delete_function(function_id=fid)
    expect(requests.get(download, timeout=30), 403, code_denied("read"))  # the code went with the function
    assert sdk_error(sdk.fn.get_cron, cron_id=cron.id) == (404, CRON_NOT_FOUND)
    assert sdk_error(sdk.fn.get_domain, domain_id=domain.id) == (404, DOMAIN_NOT_FOUND)
    assert sdk_error(sdk.fn.get_trigger, trigger_id=trigger.id) == (404, TRIGGER_NOT_FOUND_GET)
    assert sdk_error(sdk.fn.get_token, token_id=token.id) == (404, TOKEN_NOT_FOUND)
    assert trigger.id not in [t.id for t in sdk.fn.list_triggers_all(namespace_id=fn_ns["id"])]
    # the hostname is released with the function
    other = new_function(server, fn_ns["id"])["id"]
    assert sdk.fn.create_domain(function_id=other, hostname=host).hostname == host


def test_deleting_the_namespace_deletes_its_functions(server, sdk):
    ns = ready_namespace(server, "fn")
    f1 = new_function(server, ns["id"])["id"]
    f2 = new_function(server, ns["id"])["id"]
    cron = sdk.fn.create_cron(function_id=f1, schedule="0 0 * * *")
    domain = sdk.fn.create_domain(function_id=f2, hostname=f"{uniq('nsdel')}.example.net")
    assert sdk.fn.delete_namespace(namespace_id=ns["id"]).status == "deleting"
    for fid in (f1, f2):
        assert sdk_error(sdk.fn.get_function, function_id=fid) == (404, FUNCTION_NOT_FOUND)
    assert sdk_error(sdk.fn.get_cron, cron_id=cron.id) == (404, CRON_NOT_FOUND)
    assert sdk_error(sdk.fn.get_domain, domain_id=domain.id) == (404, DOMAIN_NOT_FOUND)
    assert sdk.fn.list_functions(namespace_id=ns["id"]).total_count == 0


# --- transient statuses on a server with --transition-delay ---------------------------------------------------------


def test_transient_statuses_and_waiters(slow):
    s = make_sdk(slow)
    ns = ready_namespace(slow, "fn")
    with_code = new_function(slow, ns["id"])["id"]
    without_code = new_function(slow, ns["id"])["id"]
    upload(s, with_code, sample_zip("slow"))

    deployed = expect(slow.post(f"{FN}/functions/{with_code}/deploy", {}), 200)
    failing = s.fn.deploy_function(function_id=without_code)
    cron = s.fn.create_cron(function_id=with_code, schedule="5 4 * * *", args={"a": 1})
    domain = s.fn.create_domain(function_id=with_code, hostname=f"{uniq('slow')}.example.com")
    trigger = s.fn.create_trigger(
        name="slow", function_id=with_code,
        scw_nats_config=CreateTriggerRequestMnqNatsClientConfig(subject="s", mnq_nats_account_id="ACC", mnq_project_id=DEFAULT_PROJECT,
                                                                mnq_region="fr-par"),
    )  # fmt: skip

    # reads inside the delay see the transient statuses
    assert (fn_get(slow, with_code)["status"], failing.status) == ("pending", "pending")
    assert fn_get(slow, without_code)["error_message"] is None
    assert expect(slow.get(f"{FN}/crons/{cron.id}"), 200)["status"] == "pending"
    d = expect(slow.get(f"{FN}/domains/{domain.id}"), 200)
    assert (d["status"], d["url"]) == ("pending", "")
    t = expect(slow.get(f"{FN}/triggers/{trigger.id}"), 200)
    assert (t["status"], t["scw_nats_config"]["mnq_credential_id"]) == ("creating", None)

    with ThreadPoolExecutor(max_workers=5) as pool:
        jobs = {
            "ready": pool.submit(s.fn.wait_for_function, function_id=with_code),
            "error": pool.submit(s.fn.wait_for_function, function_id=without_code),
            "cron": pool.submit(s.fn.wait_for_cron, cron_id=cron.id),
            "domain": pool.submit(s.fn.wait_for_domain, domain_id=domain.id),
            "trigger": pool.submit(s.fn.wait_for_trigger, trigger_id=trigger.id),
        }
        done = {k: v.result(timeout=30) for k, v in jobs.items()}
    assert (done["ready"].status, done["ready"].error_message) == ("ready", None)
    assert (done["error"].status, done["error"].error_message, done["error"].ready_at) == ("error", "internal error", None)
    assert (done["cron"].status, done["domain"].status, done["trigger"].status) == ("ready", "ready", "ready")
    assert done["domain"].url == f"https://{domain.hostname}"
    assert UUID_RE.match(done["trigger"].scw_nats_config.mnq_credential_id)

    ready = fn_get(slow, with_code)
    expected_ready_at = round_to_micros(ts9(ts_ns(deployed["updated_at"]) + int(SLOW_DELAY * 1e9)))
    assert ready["ready_at"] == ready["updated_at"] == expected_ready_at


# --- audit fixes: a deploy's outcome is decided when it starts; restarts keep code and attachments -------------------


def test_upload_after_a_failed_deploy_does_not_flip_it_to_ready(server, sdk, fn_ns):
    fid = new_function(server, fn_ns["id"])["id"]
    assert sdk.fn.deploy_function(function_id=fid).status == "pending"
    assert (fn_get(server, fid)["status"], fn_get(server, fid)["error_message"]) == ("error", "internal error")
    upload(sdk, fid, sample_zip("late"))
    got = fn_get(server, fid)  # uploading alone changes nothing
    assert (got["status"], got["error_message"], got["ready_at"]) == ("error", "internal error", None)
    assert sdk.fn.deploy_function(function_id=fid).status == "pending"
    assert sdk.fn.wait_for_function(function_id=fid).status == "ready"


def test_code_and_attachments_survive_a_restart(server_factory, tmp_path):
    db = tmp_path / "fn-persist.sqlite"
    first = server_factory(db_path=db)
    s = make_sdk(first)
    ns = ready_namespace(first, "fn")
    fid = new_function(first, ns["id"])["id"]
    archive = sample_zip("persisted")
    upload(s, fid, archive)
    assert s.fn.wait_for_function(function_id=s.fn.deploy_function(function_id=fid).id).status == "ready"
    cron = s.fn.create_cron(function_id=fid, schedule="5 4 * * *", args={"k": "v"}, name="kept")
    domain = s.fn.create_domain(function_id=fid, hostname=f"{uniq('persist')}.example.com")
    trigger = s.fn.create_trigger(
        name="kept", function_id=fid,
        sqs_config=CreateTriggerRequestSqsClientConfig(endpoint="https://sqs.example", queue_url="https://sqs.example/q",
                                                       access_key="AK", secret_key="S"),
    )  # fmt: skip
    cns = ready_namespace(first, "cb")
    cid = expect(first.post("/containers/v1beta1/regions/fr-par/containers", {"namespace_id": cns["id"], "name": "kept"}), 200)["id"]
    v1 = expect(first.post("/containers/v1/regions/fr-par/triggers", {
        "container_id": cid, "name": "v1-kept", "destination_config": {"http_path": "/tick", "http_method": "get"},
        "cron_config": {"schedule": "0 * * * *", "timezone": "Europe/Paris", "body": "{}", "headers": {"X": "1"}}}), 200)  # fmt: skip

    def snapshot(srv):
        return {
            "function": expect(srv.get(f"{FN}/functions/{fid}"), 200),
            "cron": expect(srv.get(f"{FN}/crons/{cron.id}"), 200),
            "domain": expect(srv.get(f"{FN}/domains/{domain.id}"), 200),
            "trigger": expect(srv.get(f"{FN}/triggers/{trigger.id}"), 200),
            "v1": expect(srv.get(f"/containers/v1/regions/fr-par/triggers/{v1['id']}"), 200),
            "lists": [expect(srv.get(f"{FN}/{kind}", params={"function_id": fid}), 200) for kind in ("crons", "domains", "triggers")],
        }

    before = snapshot(first)
    assert before["function"]["status"] == "ready" and before["cron"]["status"] == "ready"
    assert first.stop() == 0, first.stderr_tail()

    second = server_factory(db_path=db)
    assert snapshot(second) == before
    s2 = make_sdk(second)
    url = s2.fn.get_function_download_url(function_id=fid)
    got = requests.get(url.url, timeout=30)
    assert (got.status_code, got.content) == (200, archive)
    assert s2.fn.update_cron(cron_id=cron.id, name="still-works").name == "still-works"


def test_secret_merge_keeps_the_limit(server, fn_ns):
    """v1beta1 merges secrets: two PATCHes each under the limit must not leave more than the limit (100)."""
    created = expect(server.post(f"{FN}/functions", {
        "namespace_id": fn_ns["id"], "name": uniq("fn"), "runtime": "node22",
        "secret_environment_variables": [{"key": f"S{i}", "value": "v"} for i in range(60)]}), 200)
    r = server.patch(f"{FN}/functions/{created['id']}",
                     {"secret_environment_variables": [{"key": f"T{i}", "value": "v"} for i in range(41)]})
    assert r.status_code == 400, r.text
    assert [d["argument_name"] for d in r.json()["details"]] == ["secret_environment_variables"], r.text
    assert len(fn_get(server, created["id"])["secret_environment_variables"]) == 60


def test_private_network_is_accepted_without_vpc_integration(server, sdk, fn_ns):
    # Recorded 2026: functions take `private_network_id` on create and PATCH in a namespace whose
    # `vpc_integration_activated` is false (the 2025 400 "vpc integration must be activated" is no longer sent).
    assert sdk.fn.get_namespace(namespace_id=fn_ns["id"]).vpc_integration_activated is False
    network, other = str(uuid.uuid4()), str(uuid.uuid4())
    created = sdk.fn.create_function(namespace_id=fn_ns["id"], name=uniq("pn")[:20], runtime="python311", private_network_id=network)
    assert created.private_network_id == network
    assert sdk.fn.update_function(function_id=created.id, private_network_id=other).private_network_id == other
    assert sdk.fn.get_function(function_id=created.id).private_network_id == other
