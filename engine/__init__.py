"""IncidentFox investigation engine: Django-free; the web side calls :func:`investigate`."""

from engine.agents import BUILTIN_AGENTS, AgentInfo, describe_agents
from engine.errors import EngineError
from engine.knowledge import KnowledgePassage, KnowledgeRetriever
from engine.models import (
    AgentSettings,
    Attachment,
    Hypothesis,
    InvestigationContext,
    InvestigationRequest,
    MetricSeries,
    Progress,
    Recommendation,
    Report,
    RootCause,
    TimelineEvent,
    ToolCall,
)
from engine.registry import TOOL_CATALOG
from engine.runner import investigate

__all__ = [
    "BUILTIN_AGENTS",
    "TOOL_CATALOG",
    "AgentInfo",
    "AgentSettings",
    "Attachment",
    "EngineError",
    "Hypothesis",
    "InvestigationContext",
    "InvestigationRequest",
    "KnowledgePassage",
    "KnowledgeRetriever",
    "MetricSeries",
    "Progress",
    "Recommendation",
    "Report",
    "RootCause",
    "TimelineEvent",
    "ToolCall",
    "describe_agents",
    "investigate",
]
