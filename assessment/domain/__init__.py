"""The pure core: questionnaire model, loader, expressions, answers and scoring (no web imports)."""

from assessment.domain.alarms import AlarmFeature
from assessment.domain.alarms import AlarmReport
from assessment.domain.alarms import alarm_report
from assessment.domain.answers import Answers
from assessment.domain.answers import AnswerValue
from assessment.domain.answers import ParseResult
from assessment.domain.answers import display_value
from assessment.domain.answers import parse_answers
from assessment.domain.errors import Problem
from assessment.domain.errors import QuestionnaireError
from assessment.domain.loader import load_questionnaire
from assessment.domain.loader import parse_questionnaire
from assessment.domain.model import ACT_SOON
from assessment.domain.model import GuidancePage
from assessment.domain.model import Level
from assessment.domain.model import Question
from assessment.domain.model import Questionnaire
from assessment.domain.model import QuestionType
from assessment.domain.model import Section
from assessment.domain.model import Urgency
from assessment.domain.path import VisiblePath
from assessment.domain.scoring import Assessment
from assessment.domain.scoring import FiredRule
from assessment.domain.scoring import ScoreResult
from assessment.domain.scoring import Why
from assessment.domain.scoring import assess
from assessment.domain.scoring import prune
from assessment.domain.scoring import visible_path

__all__ = [
    "ACT_SOON",
    "AlarmFeature",
    "AlarmReport",
    "Level",
    "alarm_report",
    "AnswerValue",
    "Answers",
    "Assessment",
    "FiredRule",
    "GuidancePage",
    "ParseResult",
    "Problem",
    "Question",
    "QuestionType",
    "Questionnaire",
    "QuestionnaireError",
    "ScoreResult",
    "Section",
    "Urgency",
    "VisiblePath",
    "Why",
    "assess",
    "display_value",
    "load_questionnaire",
    "parse_answers",
    "parse_questionnaire",
    "prune",
    "visible_path",
]
