"""import_config: declarative, idempotent, all-or-nothing, errors name line and field."""

import textwrap

import pytest
from django.core.management import CommandError, call_command

from syncapp.models import Cluster, SyncTask

pytestmark = pytest.mark.django_db

GOOD = textwrap.dedent("""\
    clusters:
      - clusterName: src
        clusterType: NACOS
        connectKeyList: ["127.0.0.1:18848"]
        namespace: public,test
      - clusterName: dst
        clusterType: NACOS
        connectKeyList: ["127.0.0.1:28848"]
        password: s3cret
    tasks:
      - source: src
        destination: dst
        type: Service
        mode: Bidirectional
        serviceMatchPattern: ".*"
        autoScanAndAddService: true
""")


def run_import(tmp_path, text, *flags):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    from io import StringIO

    out = StringIO()
    call_command("import_config", "-f", str(path), *flags, stdout=out)
    return out.getvalue()


def snapshot():
    clusters = list(Cluster.objects.values())
    tasks = list(SyncTask.objects.values())
    return clusters, tasks


def test_it_creates_clusters_and_tasks(tmp_path):
    run_import(tmp_path, GOOD)
    src = Cluster.objects.get(cluster_name="src")
    assert src.namespace_list == ("public", "test")
    assert src.connect_keys == ["127.0.0.1:18848"]
    task = SyncTask.objects.get()
    assert (task.source, task.destination, task.mode) == (
        src,
        Cluster.objects.get(cluster_name="dst"),
        "Bidirectional",
    )


def test_importing_the_same_file_twice_changes_nothing(tmp_path):
    run_import(tmp_path, GOOD)
    before = snapshot()
    out = run_import(tmp_path, GOOD)
    assert "0 change(s)" in out
    assert snapshot() == before


def test_dry_run_prints_changes_and_writes_nothing(tmp_path):
    out = run_import(tmp_path, GOOD, "--dry-run")
    assert "would create cluster src" in out
    assert "would create task src -> dst (Service)" in out
    assert Cluster.objects.count() == 0


def test_dry_run_shows_updates_with_secrets_masked(tmp_path):
    run_import(tmp_path, GOOD)
    out = run_import(tmp_path, GOOD.replace("s3cret", "other"), "--dry-run")
    assert "would update cluster dst: password: *** -> ***" in out
    assert "s3cret" not in out and "other" not in out


def test_dry_run_shows_updates_in_the_files_terms(tmp_path):
    run_import(tmp_path, GOOD)
    changed = GOOD.replace("autoScanAndAddService: true", "autoScanAndAddService: false")
    changed = changed.replace("namespace: public,test", "namespace: public")
    changed = changed.replace('"127.0.0.1:28848"', "a:1, b:2")
    out = run_import(tmp_path, changed, "--dry-run")
    assert "would update cluster src: namespace: public,test -> public\n" in out
    new_keys = "connectKeyList: ['127.0.0.1:28848'] -> ['a:1', 'b:2']"
    assert f"would update cluster dst: {new_keys}\n" in out
    assert (
        "would update task src -> dst (Service): autoScanAndAddService: true -> false; "
        "copies go to the source's namespaces\n"
    ) in out


def test_an_unchanged_task_says_nothing_more(tmp_path):
    run_import(tmp_path, GOOD)
    out = run_import(tmp_path, GOOD, "--dry-run")
    assert "would unchanged task src -> dst (Service)\n" in out


NO_NAMESPACES = textwrap.dedent("""\
    clusters:
      - clusterName: zk
        clusterType: ZOOKEEPER
        connectKeyList: ["127.0.0.1:12181"]
      - clusterName: nacos
        clusterType: NACOS
        connectKeyList: ["127.0.0.1:18848"]
        namespace: dev,test
      - clusterName: bare
        clusterType: NACOS
        connectKeyList: ["127.0.0.1:28848"]
      - clusterName: consul
        clusterType: CONSUL
        connectKeyList: ["127.0.0.1:18500"]
    tasks:
      - source: zk
        destination: nacos
      - source: consul
        destination: bare
      - source: nacos
        destination: consul
      - source: nacos
        destination: zk
        mode: Bidirectional
""")


def test_dry_run_says_where_copies_from_a_source_without_namespaces_go(tmp_path):
    lines = run_import(tmp_path, NO_NAMESPACES, "--dry-run").splitlines()
    assert 'would create task zk -> nacos (Service): copies go to namespace "dev"' in lines
    assert 'would create task consul -> bare (Service): copies go to namespace "public"' in lines
    assert "would create task nacos -> consul (Service)" in lines  # no namespaces there
    # Its reverse way copies ZooKeeper's services into nacos.
    back = 'would create task nacos -> zk (Service): copies back to nacos go to namespace "dev"'
    assert back in lines


def test_the_note_follows_a_destination_cluster_in_the_database(tmp_path):
    run_import(tmp_path, NO_NAMESPACES)
    only_tasks = NO_NAMESPACES[NO_NAMESPACES.index("tasks:") :]
    changed = only_tasks.replace(
        "destination: nacos\n", "destination: nacos\n    serviceMatchPattern: orders\n"
    )
    lines = run_import(tmp_path, "clusters: []\n" + changed, "--dry-run").splitlines()
    assert (
        "would update task zk -> nacos (Service): serviceMatchPattern: .* -> orders; "
        'copies go to namespace "dev"'
    ) in lines


BAD_CASES = {
    "unknown clusterType": (
        'clusterType: NACOS\n    connectKeyList: ["127.0.0.1:28848"]',
        'clusterType: NACOSX\n    connectKeyList: ["127.0.0.1:28848"]',
        7,
        "clusters[1].clusterType",
    ),
    "unknown source": ("  - source: src", "  - source: nowhere", 11, "tasks[0].source"),
    "duplicate clusterName": ("clusterName: dst", "clusterName: src", 6, "clusters[1].clusterName"),
    "invalid regex": (
        'serviceMatchPattern: ".*"',
        'serviceMatchPattern: "(["',
        15,
        "tasks[0].serviceMatchPattern",
    ),
    "wrong type": (
        "autoScanAndAddService: true",
        "autoScanAndAddService: maybe",
        16,
        "tasks[0].autoScanAndAddService",
    ),
    "unknown field": (
        "mode: Bidirectional",
        "mode: Bidirectional\n    colour: red",
        15,
        "tasks[0].colour",
    ),
    "unknown mode": ("mode: Bidirectional", "mode: Sideways", 14, "tasks[0].mode"),
    "missing field": (
        '    connectKeyList: ["127.0.0.1:18848"]\n',
        "",
        2,
        "clusters[0].connectKeyList",
    ),
}


@pytest.mark.parametrize("case", BAD_CASES)
def test_a_bad_file_names_line_and_field_and_changes_nothing(tmp_path, case):
    old, new, line, field = BAD_CASES[case]
    assert old in GOOD
    run_import(tmp_path, GOOD.replace("s3cret", "first"))
    before = snapshot()
    bad = GOOD.replace(old, new, 1)
    with pytest.raises(CommandError) as err:
        run_import(tmp_path, bad)
    assert f"line {line}: {field}:" in str(err.value)
    assert "nothing imported" in str(err.value)
    assert snapshot() == before


def test_a_bad_task_does_not_import_the_good_clusters_of_the_same_file(tmp_path):
    with pytest.raises(CommandError):
        run_import(tmp_path, GOOD.replace("destination: dst", "destination: nowhere"))
    assert Cluster.objects.count() == 0


def test_broken_yaml_names_its_line(tmp_path):
    with pytest.raises(CommandError) as err:
        run_import(tmp_path, GOOD.replace("mode: Bidirectional", "mode: [unclosed"))
    message = str(err.value)
    assert "line 15: (yaml): " in message and "expected ',' or ']'" in message
    assert "while parsing a flow sequence at line 14" in message


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_config", "-f", str(tmp_path / "nope.yaml"))
