"""Console pages. Every page but the login one requires a logged-in user."""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.urls import path

from syncapp.ui import clusters, importing, tasks

app_name = "ui"


def console(route: str, view, name: str):
    """A console page: anonymous visitors are sent to the login page (settings.LOGIN_URL)."""
    return path(route, login_required(view), name=name)


urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="ui/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="ui:login"), name="logout"),
    console("", tasks.task_list, "tasks"),
    console("tasks/<int:pk>/", tasks.task_detail, "task"),
    console("tasks/<int:pk>/pause/", tasks.pause, "task-pause"),
    console("tasks/<int:pk>/resume/", tasks.resume, "task-resume"),
    console("tasks/<int:pk>/resync/", tasks.resync, "task-resync"),
    console("tasks/<int:pk>/delete/", tasks.delete, "task-delete"),
    console("import/", importing.import_config, "import"),
    console("clusters/", clusters.cluster_list, "clusters"),
    console("clusters/add/", clusters.cluster_add, "cluster-add"),
    console("clusters/<int:pk>/", clusters.cluster_edit, "cluster-edit"),
    console("clusters/<int:pk>/test/", clusters.cluster_test, "cluster-test"),
    console("clusters/<int:pk>/services/", clusters.cluster_services, "cluster-services"),
]
