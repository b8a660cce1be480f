"""questline's rule DSL: achievement rules as JsonLogic documents.

Public API (everything else is internal):

- documents: :class:`RuleDocument`; loading rule files: :func:`load_rules`, :func:`default_rules`
- validation: :func:`validate_document`, :func:`validate_paths`, :func:`validate_command_lines`;
  rule examples: :class:`RuleExample`, :func:`examples_command_lines`
- explanations: :func:`explain` → :class:`Explanation` of :class:`Shortfall`
- facts: :class:`FactSpec`, :class:`FactCatalog`, :func:`default_catalog`
- evaluation: :class:`RuleEvaluator`, :class:`CompiledRule`, :class:`RuleEvaluationError`
- analysis: :func:`progress`, :func:`threshold_parts`, :func:`affected_by`
- custom operators: :class:`OperatorRegistry`
"""

from questline.rules.analysis import (
    FactRead,
    ProgressPart,
    RuleProgress,
    Threshold,
    affected_by,
    fact_reads,
    progress,
    threshold_parts,
)
from questline.rules.document import RuleDocument, RuleExample
from questline.rules.evaluation import (
    CompiledRule,
    Diagnostic,
    FactsDocumentError,
    PreparedFacts,
    RuleCompileError,
    RuleEvaluationError,
    RuleEvaluator,
    builtin_operator_names,
)
from questline.rules.explain import Explanation, Shortfall, explain
from questline.rules.facts import FactCatalog, FactSpec, FactType, default_catalog, lookup_fact
from questline.rules.limits import DEFAULT_OPS_BUDGET, MAX_CRITERIA_BYTES, MAX_CRITERIA_DEPTH
from questline.rules.loading import RuleLoadError, default_rules, load_rules
from questline.rules.operators import CustomOperator, OperatorRegistry
from questline.rules.validation import (
    Problem,
    ValidationReport,
    examples_command_lines,
    validate_command_lines,
    validate_document,
    validate_paths,
)
from questline.rules.vocabulary import AchievementType, ActivityType

__all__ = [
    "DEFAULT_OPS_BUDGET",
    "MAX_CRITERIA_BYTES",
    "MAX_CRITERIA_DEPTH",
    "AchievementType",
    "ActivityType",
    "CompiledRule",
    "CustomOperator",
    "Diagnostic",
    "Explanation",
    "FactCatalog",
    "FactRead",
    "FactSpec",
    "FactType",
    "FactsDocumentError",
    "OperatorRegistry",
    "PreparedFacts",
    "Problem",
    "ProgressPart",
    "RuleCompileError",
    "RuleDocument",
    "RuleEvaluationError",
    "RuleEvaluator",
    "RuleExample",
    "RuleLoadError",
    "RuleProgress",
    "Shortfall",
    "Threshold",
    "ValidationReport",
    "affected_by",
    "builtin_operator_names",
    "default_catalog",
    "default_rules",
    "examples_command_lines",
    "explain",
    "fact_reads",
    "load_rules",
    "lookup_fact",
    "progress",
    "threshold_parts",
    "validate_command_lines",
    "validate_document",
    "validate_paths",
]
