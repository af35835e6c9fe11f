"""Console pages. Every page but the login one requires a logged-in user, and a role that
allows it (syncapp/roles.py): viewers read, operators also run tasks, admins change things."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import path

from syncapp.roles import IMPORT, OPERATE
from syncapp.ui import clusters, importing, tasks
from syncapp.ui.access import VIEW_CLUSTERS, VIEW_TASKS, role_required

app_name = "ui"
OPERATE_TASKS = (OPERATE,)


def console(route: str, view, name: str, read, write=None):
    """A console page: anonymous visitors are sent to the login page (settings.LOGIN_URL),
    users whose role lacks `read` (GET) or `write` (POST) get a 403."""
    return path(route, login_required(role_required(view, read, write)), name=name)


urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="ui/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="ui:login"), name="logout"),
    console("", tasks.task_list, "tasks", VIEW_TASKS),
    console("tasks/<int:pk>/", tasks.task_detail, "task", VIEW_TASKS),
    console("tasks/<int:pk>/migration/", tasks.migration, "task-migration", VIEW_TASKS),
    console("tasks/<int:pk>/pause/", tasks.pause, "task-pause", OPERATE_TASKS),
    console("tasks/<int:pk>/resume/", tasks.resume, "task-resume", OPERATE_TASKS),
    console("tasks/<int:pk>/resync/", tasks.resync, "task-resync", OPERATE_TASKS),
    console("tasks/<int:pk>/delete/", tasks.delete, "task-delete", ("syncapp.delete_synctask",)),
    console("import/", importing.import_config, "import", IMPORT),
    console("clusters/", clusters.cluster_list, "clusters", VIEW_CLUSTERS),
    console("clusters/add/", clusters.cluster_add, "cluster-add", ("syncapp.add_cluster",)),
    console(
        "clusters/<int:pk>/", clusters.cluster_edit, "cluster-edit", ("syncapp.change_cluster",)
    ),
    console(
        "clusters/<int:pk>/delete/",
        clusters.cluster_delete,
        "cluster-delete",
        ("syncapp.delete_cluster",),
    ),
    console("clusters/<int:pk>/test/", clusters.cluster_test, "cluster-test", OPERATE_TASKS),
    console(
        "clusters/<int:pk>/services/",
        clusters.cluster_services,
        "cluster-services",
        VIEW_CLUSTERS,
        ("syncapp.add_synctask",),
    ),
]
