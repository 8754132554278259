"""FHIR R4 resources made from the questionnaire and the answers, and answers read back (no Flask)."""

from assessment.fhir.questionnaire import CANONICAL_PREFIX
from assessment.fhir.questionnaire import Unexpressed
from assessment.fhir.questionnaire import canonical_url
from assessment.fhir.questionnaire import code_system
from assessment.fhir.questionnaire import fhir_questionnaire
from assessment.fhir.questionnaire import unexpressed
from assessment.fhir.response import FHIR_JSON
from assessment.fhir.response import FhirInputError
from assessment.fhir.response import ResponseAnswers
from assessment.fhir.response import questionnaire_response
from assessment.fhir.response import read_questionnaire_response

__all__ = [
    "CANONICAL_PREFIX",
    "FHIR_JSON",
    "FhirInputError",
    "ResponseAnswers",
    "Unexpressed",
    "canonical_url",
    "code_system",
    "fhir_questionnaire",
    "questionnaire_response",
    "read_questionnaire_response",
    "unexpressed",
]
