"""The console's Import Config: dry run with a diff or line/field problems, then Apply."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from syncapp.models import Cluster, SyncTask
from tests.support.configs import cluster, config_yaml, task

pytestmark = pytest.mark.django_db

GOOD = config_yaml(
    [cluster("src", "NACOS", "127.0.0.1:1", "public,test"), cluster("dst", "NACOS", "h:2")],
    [task("src", "dst", "orders-.*")],
)
# Line 14: the task's serviceMatchPattern is not a regular expression.
BAD = GOOD.replace('"orders-.*"', '"orders-("')


def test_the_import_page_is_reached_from_the_service_synchronization_page(console):
    assert b'href="/import/"' in console.get("/").content
    page = console.get("/import/").content.decode()
    assert 'name="yaml"' in page and 'type="file"' in page and "Dry run" in page


def test_a_bad_yaml_shows_line_and_field_and_changes_nothing(console):
    for action in ("dry-run", "apply"):
        response = console.post("/import/", {"yaml": BAD, "action": action})
        body = response.content.decode()
        assert response.status_code == 400
        assert '<td class="num">14</td>' in body
        assert "tasks[0].serviceMatchPattern" in body and "invalid regular expression" in body
        assert "Nothing imported" in body
        assert "orders-(" in body  # the text stays in the box, to fix it
    assert not Cluster.objects.exists() and not SyncTask.objects.exists()


def test_a_yaml_syntax_error_names_its_line(console):
    body = console.post("/import/", {"yaml": "clusters:\n  - a: [\n", "action": "dry-run"})
    assert "(yaml)" in body.content.decode()
    assert not Cluster.objects.exists()


def test_every_problem_is_listed(console):
    text = GOOD.replace("clusterType: NACOS", "clusterType: ETCD", 1).replace(
        "mode: Unidirectional", "mode: Sideways"
    )
    body = console.post("/import/", {"yaml": text, "action": "dry-run"}).content.decode()
    assert "clusters[0].clusterType" in body and "tasks[0].mode" in body
    assert body.count('class="problem"') == 2


def test_a_task_naming_an_unknown_cluster_is_a_problem_too(console):
    text = GOOD.replace("destination: dst", "destination: nowhere")
    body = console.post("/import/", {"yaml": text, "action": "apply"}).content.decode()
    assert "tasks[0].destination" in body and "unknown cluster" in body
    assert not Cluster.objects.exists()


def test_dry_run_shows_the_diff_and_changes_nothing(console):
    body = console.post("/import/", {"yaml": GOOD, "action": "dry-run"}).content.decode()
    assert "Dry run: 3 changes" in body
    assert body.count('class="change create"') == 3
    assert "src -&gt; dst (Service)" in body
    assert 'value="apply"' in body
    assert not Cluster.objects.exists() and not SyncTask.objects.exists()


def test_apply_creates_the_rows_and_a_second_dry_run_shows_nothing_to_do(console):
    response = console.post("/import/", {"yaml": GOOD, "action": "apply"})
    assert response.status_code == 302 and response.url == "/"
    assert set(Cluster.objects.values_list("cluster_name", flat=True)) == {"src", "dst"}
    created = SyncTask.objects.get()
    assert created.service_match_pattern == "orders-.*"
    assert "Config applied: 3 change(s)." in console.get("/").content.decode()
    again = console.post("/import/", {"yaml": GOOD, "action": "dry-run"}).content.decode()
    assert "Dry run: 0 changes" in again and again.count('class="change unchanged"') == 3


def test_an_update_shows_old_and_new_values_but_never_a_secret(console):
    Cluster.objects.create(
        cluster_name="src", cluster_type="NACOS", connect_keys=["old:1"], password="hunter2"
    )
    text = GOOD.replace('connectKeyList: ["127.0.0.1:1"]', 'connectKeyList: ["new:1"]')
    text = text.replace("namespace: public,test", "namespace: public,test\n    password: s3cret")
    body = console.post("/import/", {"yaml": text, "action": "dry-run"}).content.decode()
    assert "[&#x27;old:1&#x27;] → [&#x27;new:1&#x27;]" in body
    assert "<code>password</code>: *** → ***" in body
    assert "hunter2" not in body.replace(text, "")  # only in the echoed YAML box
    assert "hunter2" not in body


def test_an_uploaded_file_is_read(console):
    upload = SimpleUploadedFile("sync.yaml", GOOD.encode(), content_type="text/yaml")
    body = console.post("/import/", {"file": upload, "action": "dry-run"}).content.decode()
    assert "Dry run: 3 changes" in body
    assert "orders-.*" in body  # the file's text is in the box, for Apply


def test_an_empty_form_asks_for_a_yaml(console):
    body = console.post("/import/", {"yaml": "  ", "action": "dry-run"}).content.decode()
    assert "paste a YAML text or choose a file" in body


def test_a_creation_lists_the_values_it_would_write_in_the_yamls_terms(console):
    text = GOOD.replace("namespace: public,test", "namespace: public,test\n    password: s3cret")
    body = console.post("/import/", {"yaml": text, "action": "dry-run"}).content.decode()
    diff = body.split('id="diff"')[1].split("</table>")[0]
    assert "<code>clusterType</code>: NACOS" in diff
    assert "<code>connectKeyList</code>: [&#x27;127.0.0.1:1&#x27;]" in diff
    assert "<code>serviceMatchPattern</code>: orders-.*" in diff
    assert "<code>autoScanAndAddService</code>: true" in diff
    assert "<code>password</code>: ***" in diff and "s3cret" not in diff
    assert not any(internal in diff for internal in ("cluster_type", "auto_scan", "True"))
    assert "copies go to the source&#x27;s namespaces" in diff


def test_an_update_shows_old_and_new_in_the_yamls_terms(console):
    console.post("/import/", {"yaml": GOOD, "action": "apply"})
    changed = GOOD.replace('"orders-.*"', '"orders-v2-.*"\n    autoScanAndAddService: false')
    body = console.post("/import/", {"yaml": changed, "action": "dry-run"}).content.decode()
    diff = body.split('id="diff"')[1].split("</table>")[0]
    assert "<code>serviceMatchPattern</code>: orders-.* → orders-v2-.*" in diff
    assert "<code>autoScanAndAddService</code>: true → false" in diff


def test_the_dialog_gets_the_panel_alone_and_a_204_with_where_to_go_after_apply(console):
    dialog = {"HTTP_X_REQUESTED_WITH": "fetch"}
    bad = console.post("/import/", {"yaml": BAD, "action": "dry-run"}, **dialog)
    assert bad.status_code == 400 and b"<html" not in bad.content
    assert b"tasks[0].serviceMatchPattern" in bad.content
    page = console.get("/").content.decode()  # the dialog is on the page, with the same form
    assert '<dialog id="import-dialog"' in page and 'data-dialog="import-dialog"' in page
    applied = console.post("/import/", {"yaml": GOOD, "action": "apply"}, **dialog)
    assert (applied.status_code, applied["X-Location"]) == (204, "/")
    assert Cluster.objects.count() == 2
