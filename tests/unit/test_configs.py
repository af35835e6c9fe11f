"""Configuration sync: the pattern owns what it matches at the destination."""

import textwrap

import pytest
from django.core.management import CommandError, call_command

from syncapp.engine.configs import config_root, plan_configs

PATTERN = "/app(/.*)?"


def test_it_writes_new_and_changed_entries_and_deletes_missing_ones_deepest_first():
    source = {"/app": b"", "/app/a": b"1", "/app/b": b"2"}
    dest = {"/app": b"", "/app/a": b"old", "/app/c": b"", "/app/c/d": b"x"}
    changes = plan_configs(source, dest, PATTERN)
    assert changes.put == [("/app/a", b"1"), ("/app/b", b"2")]
    assert changes.delete == ["/app/c/d", "/app/c"]


def test_it_never_touches_what_the_pattern_does_not_match():
    changes = plan_configs({"/other": b"1"}, {"/other": b"2", "/x": b""}, PATTERN)
    assert not changes


def test_in_step_means_no_changes():
    tree = {"/app": b"", "/app/a": b"1"}
    assert not plan_configs(tree, dict(tree), PATTERN)


@pytest.mark.parametrize(
    "pattern, root",
    [
        ("/app(/.*)?", "/app"),
        ("/app/conf/.*", "/app/conf"),
        ("/ap.*", "/"),
        (".*", "/"),
        ("/x/y", "/x/y"),
    ],
)
def test_the_root_to_read_is_the_deepest_path_every_match_lies_under(pattern, root):
    assert config_root(pattern) == root


CONFIG_YAML = textwrap.dedent("""\
    clusters:
      - clusterName: zk-a
        clusterType: ZOOKEEPER
        connectKeyList: ["127.0.0.1:2181"]
      - clusterName: nacos-b
        clusterType: NACOS
        connectKeyList: ["127.0.0.1:8848"]
    tasks:
      - source: zk-a
        destination: nacos-b
        type: Config
        mode: Bidirectional
        serviceMatchPattern: "/app(/.*)?"
""")


@pytest.mark.django_db
def test_a_zookeeper_config_task_must_be_one_way_and_between_zookeepers(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG_YAML)
    with pytest.raises(CommandError) as err:
        call_command("import_config", "-f", str(path))
    assert "line 9: tasks[0].mode: a Config task must be Unidirectional" in str(err.value)
    assert (
        "line 9: tasks[0].destination: Config sync copies between clusters of one kind, "
        "not ZOOKEEPER to NACOS" in str(err.value)
    )


@pytest.mark.django_db
def test_a_nacos_config_task_may_be_two_way_and_overwrite_natives(tmp_path):
    path = tmp_path / "c.yaml"
    text = CONFIG_YAML.replace("zk-a", "nacos-a").replace("ZOOKEEPER", "NACOS")
    path.write_text(text + "    overwriteNativeConfigs: true\n")
    call_command("import_config", "-f", str(path))
    from syncapp.models import SyncTask

    task = SyncTask.objects.get()
    assert (task.mode, task.overwrite_native) == ("Bidirectional", True)


@pytest.mark.django_db
def test_a_config_task_needs_config_kinds_at_both_ends(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        CONFIG_YAML.replace("ZOOKEEPER", "EUREKA").replace("Bidirectional", "Unidirectional")
    )
    with pytest.raises(CommandError) as err:
        call_command("import_config", "-f", str(path))
    assert "tasks[0].source: Config sync needs a NACOS or ZOOKEEPER cluster, not EUREKA" in str(
        err.value
    )
