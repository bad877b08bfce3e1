"""LLM mode: a language model reviews the deterministic findings, may call more tools, and writes the report.

Opt-in per team (``llm`` in the team config); without it, or with ``provider: "none"``, the engine stays
deterministic. The model sees what this investigation gathered and nothing else, calls tools through the same
registry (so every call is logged and counted like the planner's), and its report must satisfy the evidence
rule (``evidence.check_evidence``) or it is asked again. See ``review.review_with_llm``.
"""

from engine.llm.settings import LlmSettings, llm_settings

__all__ = ["LlmSettings", "llm_settings"]
