from incidentfox_web.api.urls import api_route
from knowledge import api

urlpatterns = [
    api_route("kb/teach", api.TeachView.as_view(), "kb-teach"),
    api_route("kb/retrieve", api.RetrieveView.as_view(), "kb-retrieve"),
    api_route("kb/answer", api.AnswerView.as_view(), "kb-answer"),
    api_route("kb/feedback", api.FeedbackView.as_view(), "kb-feedback"),
    api_route("kb/tree/stats", api.TreeStatsView.as_view(), "kb-tree-stats"),
    api_route("kb/status", api.StatusView.as_view(), "kb-status"),
    api_route("kb/documents", api.DocumentListView.as_view(), "kb-documents"),
    api_route("kb/documents/<document_id>", api.DocumentView.as_view(), "kb-document"),
]
