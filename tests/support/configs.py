"""The YAML of one test's clusters and task: names private to the test (servers are shared)."""

import textwrap


def cluster(name: str, kind: str, address: str, namespaces: str = "") -> str:
    extra = f"\n    namespace: {namespaces}" if namespaces else ""
    return (
        f"  - clusterName: {name}\n    clusterType: {kind}\n"
        f'    connectKeyList: ["{address}"]{extra}\n'
    )


def task(source: str, dest: str, pattern: str, mode="Unidirectional", sync_type="Service") -> str:
    body = textwrap.dedent(f"""\
        - source: {source}
          destination: {dest}
          type: {sync_type}
          mode: {mode}
          serviceMatchPattern: "{pattern}"
    """)
    return textwrap.indent(body, "  ")


def config_yaml(clusters: list[str], tasks: list[str]) -> str:
    return "clusters:\n" + "".join(clusters) + "tasks:\n" + "".join(tasks)
