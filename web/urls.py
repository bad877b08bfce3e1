"""Routes of the server-rendered web app (namespace ``web``)."""

from django.urls import path

from web.views import auth, config, history, investigations, knowledge, postmortem, webhooks

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.SignInView.as_view(), name="login"),
    path("logout/", auth.sign_out, name="logout"),
    path("teams/switch", auth.switch_team, name="switch_team"),
    path("teams/<slug:team_id>/", history.dashboard, name="dashboard"),
    path("teams/<slug:team_id>/history", history.history, name="history"),
    path("teams/<slug:team_id>/investigations/new", investigations.investigation_new, name="investigation_new"),
    path("teams/<slug:team_id>/config", config.config, name="config"),
    path("teams/<slug:team_id>/webhooks", webhooks.webhooks_settings, name="webhooks"),
    path("teams/<slug:team_id>/knowledge", knowledge.knowledge, name="knowledge"),
    path("teams/<slug:team_id>/knowledge/feedback", knowledge.knowledge_feedback, name="knowledge_feedback"),
    path(
        "teams/<slug:team_id>/knowledge/<str:document_id>",
        knowledge.knowledge_document,
        name="knowledge_document",
    ),
    path(
        "teams/<slug:team_id>/knowledge/<str:document_id>/export",
        knowledge.knowledge_export,
        name="knowledge_export",
    ),
    path("investigations/<str:investigation_id>", investigations.investigation_detail, name="investigation"),
    path("investigations/<str:investigation_id>/postmortem", postmortem.postmortem_editor, name="postmortem"),
    path("investigations/<str:investigation_id>/card", investigations.investigation_card, name="investigation_card"),
    path("investigations/<str:investigation_id>/rerun", investigations.investigation_rerun, name="investigation_rerun"),
    path(
        "investigations/<str:investigation_id>/cancel",
        investigations.investigation_cancel_view,
        name="investigation_cancel",
    ),
]
