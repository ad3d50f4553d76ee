"""The desk's own end-to-end conversation tests (``helpdesk test``), like ``rasa test e2e``.

``spec`` reads and checks the YAML files, ``runner`` plays each conversation
through the console channel on a throwaway database, ``report`` sums them up.
"""

from bot.conversation_tests.report import ConversationResult, Report
from bot.conversation_tests.runner import is_dead_end, isolated_settings, run_conversations
from bot.conversation_tests.spec import (
    Click,
    ConversationFileError,
    ConversationTest,
    Expect,
    Outcome,
    Say,
    Step,
    Submit,
    load_conversations,
)

__all__ = [
    "Click",
    "ConversationFileError",
    "ConversationResult",
    "ConversationTest",
    "Expect",
    "Outcome",
    "Report",
    "Say",
    "Step",
    "Submit",
    "is_dead_end",
    "load_conversations",
    "run_conversations",
    "isolated_settings",
]
