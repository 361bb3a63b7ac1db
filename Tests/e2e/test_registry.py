"""The container registry next door: Registry v1's control plane and IAM's API-key look-up, driven with the official SDK.

Deploy tools call these beside the serverless APIs: Terraform's `scaleway_registry_namespace`, Ansible's
`scaleway_container_registry` and `scw container deploy` look up registry namespaces, and the CLI asks IAM for the
caller's default project. The mock serves:

    /registry/v1/regions/{region}/namespaces           GET (list), POST; GET/PATCH/DELETE namespaces/{id}
    /registry/v1/regions/{region}/images               GET (list); GET/PATCH/DELETE images/{id}; GET images/{id}/tags
    /registry/v1/regions/{region}/tags/{id}            GET, DELETE
    /iam/v1alpha1/api-keys/{access_key}                GET

Every container or function namespace has its registry namespace: the `registry_namespace_id` and `registry_endpoint`
that v1beta1 shows name a registry namespace `funcscw…` in the same project, which disappears with the namespace.
Images and tags come from fixtures (the mock runs no Docker registry):

    registry_namespaces:
      - {name: team-images, description: shared images}
    registry_images:
      - {namespace: team-images, name: web, size: 1000, tags: [latest, "1.0"]}
      - {namespace: demo, name: api, tags: [latest]}      # demo: a container namespace, so its funcscw… registry
"""
from __future__ import annotations

import textwrap

import pytest
from scaleway.container.v1beta1 import ContainerV1Beta1API
from scaleway.function.v1beta1 import FunctionV1Beta1API
from scaleway.iam.v1alpha1 import IamV1Alpha1API
from scaleway.registry.v1 import RegistryV1API
from scaleway_core.api import ScalewayException

from support import (DEFAULT_ACCESS_KEY, DEFAULT_ORG, DEFAULT_PROJECT, EXPIRED_ACCESS_KEY, OTHER_ACCESS_KEY, OTHER_KEY, ServerFactory,
                     make_client, sdk_wait_ready, uniq, wait_until)


def registry(server, key=None) -> RegistryV1API:
    return RegistryV1API(make_client(server, key) if key else make_client(server))


def refused(call) -> ScalewayException:
    with pytest.raises(ScalewayException) as info:
        call()
    return info.value


def test_a_registry_namespace_is_created_read_listed_changed_and_deleted(server):
    api = registry(server)
    name = uniq("images")

    ns = api.create_namespace(name=name, description="shared images", is_public=False)
    assert (ns.name, ns.description, ns.is_public, ns.status) == (name, "shared images", False, "ready")
    assert ns.endpoint == f"rg.fr-par.scw.cloud/{name}"  # what `docker push` talks to
    assert (ns.project_id, ns.organization_id, ns.region) == (DEFAULT_PROJECT, DEFAULT_ORG, "fr-par")
    assert (ns.image_count, ns.size, ns.status_message) == (0, 0, "")
    assert api.wait_for_namespace(namespace_id=ns.id).status == "ready"

    assert api.get_namespace(namespace_id=ns.id) == ns
    listed = api.list_namespaces(name=name)
    assert listed.total_count == 1 and listed.namespaces == [ns]

    changed = api.update_namespace(namespace_id=ns.id, description="public now", is_public=True)
    assert (changed.description, changed.is_public, changed.name) == ("public now", True, name)
    assert api.get_namespace(namespace_id=ns.id).is_public is True

    # Names are unique in a region (across organizations), with the wording the registry answers.
    duplicate = refused(lambda: api.create_namespace(name=name, description="", is_public=False))
    assert (duplicate.status_code, duplicate.response.json()) == (409, {"message": "Namespace already exist"})
    # Only lower-case letters, digits and dashes, 4 to 54 characters.
    for bad in ("My_Images", "abc", "x" * 55, "-images"):
        error = refused(lambda: api.create_namespace(name=bad, description="", is_public=False))
        assert error.status_code == 400 and error.response.json()["details"][0]["argument_name"] == "name", bad

    deleted = api.delete_namespace(namespace_id=ns.id)
    assert (deleted.id, deleted.status) == (ns.id, "deleting")
    gone = refused(lambda: api.get_namespace(namespace_id=ns.id))
    assert (gone.status_code, gone.response.json()) == (
        404, {"message": "resource is not found", "resource": "namespace", "resource_id": ns.id, "type": "not_found"})
    assert api.list_namespaces(name=name).total_count == 0


@pytest.mark.parametrize("product", [ContainerV1Beta1API, FunctionV1Beta1API])
def test_a_serverless_namespace_shows_its_registry_namespace_until_it_is_deleted(server, product):
    containers = product(make_client(server))  # containers v1beta1 or functions v1beta1: the same rules
    api = registry(server)
    created = containers.create_namespace(name=uniq("demo"))
    assert created.registry_namespace_id == ""  # until the namespace is ready, as on Scaleway
    ready = sdk_wait_ready(containers, created.id)

    ns = api.get_namespace(namespace_id=ready.registry_namespace_id)
    assert ns.endpoint == ready.registry_endpoint
    assert ns.name == ready.registry_endpoint.split("/")[-1] and ns.name.startswith("funcscw")
    assert (ns.project_id, ns.organization_id, ns.region, ns.status) == (ready.project_id, ready.organization_id, "fr-par", "ready")
    assert ns.id in [n.id for n in api.list_namespaces_all()]
    assert api.list_namespaces(name=ns.name).namespaces == [ns]

    # It belongs to the serverless namespace: change or delete that one instead.
    owned = refused(lambda: api.delete_namespace(namespace_id=ns.id))
    assert owned.status_code == 412 and ready.id in owned.response.json()["help_message"]
    # Its name is taken for registry namespaces of the region.
    taken = refused(lambda: api.create_namespace(name=ns.name, description="", is_public=False))
    assert taken.status_code == 409

    containers.delete_namespace(namespace_id=ready.id)
    gone = refused(lambda: api.get_namespace(namespace_id=ns.id))  # right after, as on Scaleway
    assert gone.status_code == 404
    assert ns.id not in [n.id for n in api.list_namespaces_all()]


def test_another_project_neither_sees_nor_touches_a_registry_namespace(server):
    mine = registry(server).create_namespace(name=uniq("private"), description="", is_public=False)
    theirs = registry(server, OTHER_KEY)
    for call in (lambda: theirs.get_namespace(namespace_id=mine.id),
                 lambda: theirs.update_namespace(namespace_id=mine.id, description="x"),
                 lambda: theirs.delete_namespace(namespace_id=mine.id)):
        assert refused(call).status_code == 403
    assert mine.id not in [n.id for n in theirs.list_namespaces_all()]
    # Asking to list a project the key may not use is refused, as the serverless lists do.
    assert refused(lambda: theirs.list_namespaces(project_id=DEFAULT_PROJECT)).status_code == 403
    registry(server).delete_namespace(namespace_id=mine.id)


def test_with_a_transition_delay_a_deleted_registry_namespace_reads_as_deleting_then_404(server_factory):
    # `scw-mock serve --transition-delay 1.5`: as on Scaleway, DELETE then GET shows `deleting` for a while, then 404;
    # the funcscw… registry namespace of a serverless namespace appears once that namespace is ready and is 404 as soon
    # as the namespace is deleted (while the namespace itself still reads as `deleting`).
    slow = server_factory(transition_delay=1.5)
    api = registry(slow)
    ns = api.create_namespace(name=uniq("slow"), description="", is_public=False)
    assert api.delete_namespace(namespace_id=ns.id).status == "deleting"
    assert api.get_namespace(namespace_id=ns.id).status == "deleting"
    assert ns.id not in [n.id for n in api.list_namespaces_all()]  # lists skip it at once

    def gone() -> bool:
        try:
            return api.get_namespace(namespace_id=ns.id).status != "deleting"  # never anything else
        except ScalewayException as error:
            return error.status_code == 404
    assert wait_until(gone, 10)
    assert refused(lambda: api.get_namespace(namespace_id=ns.id)).status_code == 404

    containers = ContainerV1Beta1API(make_client(slow))
    demo = containers.create_namespace(name=uniq("demo"))
    assert all(not n.name.startswith("funcscw") for n in api.list_namespaces_all())  # still pending
    ready = sdk_wait_ready(containers, demo.id)
    assert api.get_namespace(namespace_id=ready.registry_namespace_id).endpoint == ready.registry_endpoint
    containers.delete_namespace(namespace_id=ready.id)
    assert containers.get_namespace(namespace_id=ready.id).status == "deleting"
    assert refused(lambda: api.get_namespace(namespace_id=ready.registry_namespace_id)).status_code == 404


DEMO_ID = "5eed0000-0000-4000-8000-0000000000d1"
IMAGES_ID = "5eed0000-0000-4000-8000-0000000000e1"
DIGEST = "sha256:" + "ab" * 32

REGISTRY_SEED = textwrap.dedent(f"""\
    namespaces:
      - {{id: {DEMO_ID}, name: demo, kind: container}}
    registry_namespaces:
      - {{id: {IMAGES_ID}, name: team-images, description: shared images}}
    registry_images:
      - {{namespace: team-images, name: web, size: 1000, visibility: private, tags: [latest, "1.0"], digest: "{DIGEST}"}}
      - {{namespace: team-images, name: tools/cli, size: 24}}
      - {{namespace: demo, name: api, size: 500, tags: [latest]}}
    """)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("scw-mock-registry")
    seed = workdir / "registry.yaml"
    seed.write_text(REGISTRY_SEED)
    factory = ServerFactory(workdir)
    yield factory(extra_seeds=[seed], key_pool=2)
    factory.stop_all()


def test_the_state_export_carries_the_registry_and_loads_again(seeded):
    api = registry(seeded)
    def world():
        images = sorted(api.list_images_all(), key=lambda i: i.name)
        return ([(n.name, n.description) for n in api.list_namespaces_all() if not n.name.startswith("funcscw")],
                [(i.name, i.size, i.visibility, i.tags, [t.digest for t in api.list_tags_all(image_id=i.id)]) for i in images])
    before = world()
    assert before[0] == [("team-images", "shared images")] and len(before[1]) == 3

    state = seeded.get("/_mock/state").json()
    assert [n["id"] for n in state["registry_namespaces"]] == [IMAGES_ID]
    assert {i["name"]: i["namespace"] for i in state["registry_images"]} == {"web": IMAGES_ID, "tools/cli": IMAGES_ID, "api": DEMO_ID}

    assert seeded.post("/_mock/reset?to=empty").status_code == 200
    assert world() == ([], [])
    assert seeded.post("/_mock/seed", state).status_code == 200, "the export is a fixture document"
    assert world() == before
    assert seeded.post("/_mock/reset").status_code == 200


def test_images_and_tags_from_a_fixture_are_listed_read_changed_and_deleted(seeded):
    api = registry(seeded)
    team = api.get_namespace(namespace_id=IMAGES_ID)
    assert (team.name, team.description, team.image_count, team.size) == ("team-images", "shared images", 2, 1024)

    images = api.list_images(namespace_id=IMAGES_ID, order_by="name_asc")
    assert images.total_count == 2 and [i.name for i in images.images] == ["tools/cli", "web"]
    web = api.list_images(namespace_id=IMAGES_ID, name="web").images[0]
    assert (web.namespace_id, web.status, web.visibility, web.size, web.tags) == (IMAGES_ID, "ready", "private", 1000, ["latest", "1.0"])
    assert api.get_image(image_id=web.id) == web

    tags = api.list_tags(image_id=web.id)
    assert tags.total_count == 2 and [(t.name, t.digest, t.status, t.image_id) for t in tags.tags] == [
        ("latest", DIGEST, "ready", web.id), ("1.0", DIGEST, "ready", web.id)]
    latest = tags.tags[0]
    assert api.get_tag(tag_id=latest.id) == latest
    assert [t.name for t in api.list_tags(image_id=web.id, name="1.0").tags] == ["1.0"]

    # The container namespace `demo` got its image in its own registry namespace.
    demo = ContainerV1Beta1API(make_client(seeded)).get_namespace(namespace_id=DEMO_ID)
    api_image = api.list_images(namespace_id=demo.registry_namespace_id).images
    assert [i.name for i in api_image] == ["api"] and api.get_namespace(namespace_id=demo.registry_namespace_id).image_count == 1

    assert api.update_image(image_id=web.id, visibility="public").visibility == "public"
    assert api.get_image(image_id=web.id).visibility == "public"

    assert api.delete_tag(tag_id=latest.id).status == "deleting"
    assert refused(lambda: api.get_tag(tag_id=latest.id)).status_code == 404
    assert api.get_image(image_id=web.id).tags == ["1.0"]

    assert api.delete_image(image_id=web.id).status == "deleting"
    assert refused(lambda: api.get_image(image_id=web.id)).status_code == 404
    assert refused(lambda: api.get_tag(tag_id=tags.tags[1].id)).status_code == 404  # its tags went with it
    assert api.get_namespace(namespace_id=IMAGES_ID).image_count == 1

    # Deleting a namespace takes its images with it.
    cli = api.list_images(namespace_id=IMAGES_ID).images[0]
    api.delete_namespace(namespace_id=IMAGES_ID)
    assert refused(lambda: api.get_image(image_id=cli.id)).status_code == 404

    # Another project sees none of them.
    assert registry(seeded, OTHER_KEY).list_images_all() == []

    # Deleting the container namespace takes its registry namespace's images too.
    api_image_id = api_image[0].id
    ContainerV1Beta1API(make_client(seeded)).delete_namespace(namespace_id=DEMO_ID)
    assert refused(lambda: api.get_image(image_id=api_image_id)).status_code == 404
    assert api.list_images_all() == []


def test_the_cli_finds_the_callers_default_project_through_iam(server):
    iam = IamV1Alpha1API(make_client(server))
    key = iam.get_api_key(access_key=DEFAULT_ACCESS_KEY)
    assert (key.access_key, key.default_project_id) == (DEFAULT_ACCESS_KEY, DEFAULT_PROJECT)
    assert key.secret_key is None  # never shown again after creation
    assert key.application_id and key.user_id is None and key.editable and not key.managed

    # A key of the same organization is visible (with its expiry); another organization's is not there at all.
    assert iam.get_api_key(access_key=EXPIRED_ACCESS_KEY).expires_at.year == 2020
    for hidden in (OTHER_ACCESS_KEY, "SCWNOSUCHKEY00000000"):
        error = refused(lambda: iam.get_api_key(access_key=hidden))
        assert (error.status_code, error.response.json()["resource"]) == (404, "api_key"), hidden
