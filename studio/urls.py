from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from studio.api.api import urlpatterns as api_urls
from studio.views import (
    audit,
    columns,
    connections,
    dagster,
    dashboard,
    downstream,
    editor,
    errors,
    health,
    history,
    lineage,
    replications,
    runs,
    schedules,
    sign_in,
    tokens,
    upgrade,
    yaml,
)

handler400 = errors.bad_request
handler404 = errors.not_found
handler500 = errors.server_error

replication_urls = [
    path("", editor.editor, name="editor"),
    path("settings/", editor.settings_save, name="settings-save"),
    path("settings/check/", editor.settings_check, name="settings-check"),
    path("streams/", editor.streams_table, name="streams-table"),
    path("streams/add/", editor.stream_add, name="stream-add"),
    path("streams/bulk/", editor.streams_bulk, name="streams-bulk"),
    path("streams/<int:pk>/", editor.stream_edit, name="stream-edit"),
    path("streams/<int:pk>/check/", editor.stream_check, name="stream-check"),
    path("streams/<int:pk>/matches/", editor.stream_matches, name="stream-matches"),
    path("streams/<int:pk>/columns/", columns.stream_columns_refresh, name="stream-columns"),
    path("streams/<int:pk>/rows/", columns.stream_rows, name="stream-rows"),
    path("problems/", editor.problems, name="problems"),
    path("yaml/", yaml.yaml_preview, name="yaml-preview"),
    path("download/", yaml.yaml_download, name="yaml-download"),
    path("dagster/", dagster.export, name="dagster-export"),
    path("import/", yaml.import_yaml, name="yaml-import"),
    path("history/", history.history, name="history"),
    path("history/<int:version>/restore/", history.revision_restore, name="revision-restore"),
    path("run/", runs.run_start, name="run-start"),
    path("streams/<int:pk>/run/", runs.stream_run, name="stream-run"),
    path("schedules/", schedules.schedules, name="schedules"),
    path("schedules/preview/", schedules.schedule_preview, name="schedule-preview"),
    path("schedules/add/", schedules.schedule_save, name="schedule-add"),
    path("schedules/<int:pk>/", schedules.schedule_save, name="schedule-edit"),
    path("schedules/<int:pk>/pause/", schedules.schedule_state, {"action": "pause"}, name="schedule-pause"),
    path(
        "schedules/<int:pk>/resume/", schedules.schedule_state, {"action": "resume"}, name="schedule-resume"
    ),
    path(
        "schedules/<int:pk>/delete/", schedules.schedule_state, {"action": "delete"}, name="schedule-delete"
    ),
    path("policy/", schedules.policy_save, name="policy-save"),
    path("alerts/add/", schedules.channel_add, name="channel-add"),
    path("alerts/<int:pk>/pause/", schedules.channel_state, {"action": "pause"}, name="channel-pause"),
    path("alerts/<int:pk>/enable/", schedules.channel_state, {"action": "enable"}, name="channel-enable"),
    path("alerts/<int:pk>/delete/", schedules.channel_state, {"action": "delete"}, name="channel-delete"),
    path("duplicate/", replications.replication_duplicate, name="replication-duplicate"),
    path("delete/", replications.replication_delete, name="replication-delete"),
]

connection_urls = [
    path("", connections.connection_list_page, name="connections"),
    path("new/", connections.connection_edit, name="connection-new"),
    path("new/test/", connections.connection_test, name="connection-new-test"),
    path("<str:name>/", connections.connection_edit, name="connection-edit"),
    path("<str:name>/delete/", connections.connection_delete, name="connection-delete"),
    path("<str:name>/test/", connections.connection_test, name="connection-test"),
    path("<str:name>/discover/", connections.connection_discover, name="connection-discover"),
    path("<str:name>/add-streams/", connections.connection_add_streams, name="connection-add-streams"),
]

run_urls = [
    path("", runs.run_list, name="runs"),
    path("<int:pk>/", runs.run_detail, name="run"),
    path("<int:pk>/status/", runs.run_status, name="run-status"),
    path("<int:pk>/log/", runs.run_log, name="run-log"),
    path("<int:pk>/log/earlier/", runs.run_log_earlier, name="run-log-earlier"),
    path("<int:pk>/alerts/", runs.run_alerts, name="run-alerts"),
    path("<int:pk>/cancel/", runs.run_cancel, name="run-cancel"),
    path("<int:pk>/again/", runs.run_again, name="run-again"),
    path("<int:pk>/log.txt", runs.run_log_download, name="run-log-download"),
]

lineage_urls = [
    path("", lineage.graph, name="lineage"),
    path("node/", lineage.node, name="lineage-node"),
    path("group/", lineage.group, name="lineage-group"),
    path("suggest/", lineage.suggest, name="lineage-suggest"),
    path("find/", lineage.find, name="lineage-find"),
    path("path/", lineage.path, name="lineage-path"),
    path("export/<str:fmt>/", lineage.export, name="lineage-export"),
    path("downstream/new/", downstream.downstream_new, name="lineage-downstream-new"),
    path("downstream/<int:pk>/", downstream.downstream_edit, name="lineage-downstream-edit"),
    path("downstream/<int:pk>/delete/", downstream.downstream_delete, name="lineage-downstream-delete"),
]

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("replications/", replications.replication_list, name="replications"),
    path("new/", replications.replication_create, name="replication-create"),
    path("new/yaml/", replications.replication_import_new, name="replication-import-new"),
    path("r/<str:name>/", include(replication_urls)),
    path("connections/", include(connection_urls)),
    path("runs/", include(run_urls)),
    path("lineage/", include(lineage_urls)),
    path("audit/", audit.audit_log, name="audit"),
    path("audit/export.json", audit.audit_export_json, name="audit-export"),
    path("tokens/", tokens.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
    # Programs: the HTTP API, its OpenAPI document (schema/) and reference page (docs/).
    path("api/v1/", api_urls()),
    path("upgrade/", upgrade.upgrade, name="upgrade"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    # Sign-in is required everywhere (LoginRequiredMiddleware) but here: LoginView says so itself.
    path("login/", sign_in.SignInView.as_view(), name="login"),
    # Single sign-on (studio/sso.py): to the identity provider, and back from it.
    path("sso/start/", login_not_required(sign_in.SignOnStart.as_view()), name="sso-start"),
    path("sso/callback/", login_not_required(sign_in.SignOnCallback.as_view()), name="sso-callback"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
