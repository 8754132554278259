"""The speed machinery, in one package behind one switch (PRERENDER): pages made once, filled per request.

The web layer (assessment/web) asks this package for HTML and links; this package never imports
the web layer. It reads the questionnaire, the templates and the WTForms form classes it is given.

Each part has a slow way that gives the same result, and tests compare the two
(tests/web/test_fast_paths.py):

- **Links.** url_for costs microseconds and a page has several links that are the same for everyone:
  they are built once per process, but only when a URL cannot depend on the request (no
  SCRIPT_NAME, no SERVER_NAME, no url_defaults) and only from the app's own values. A section
  page's step, Back link and form action are made that way for every variant at once (SectionNav).
- **Section page shells.** The page around the questions is rendered once per section and variant,
  through the same templates, with a marker for each value that changes (SHELL_HOLES); a GET without
  messages or errors joins the pieces. Each is rendered for two different requests and kept only when
  both agree, so a template that used the request, or anything random, keeps the slow way.
- **Results pages.** results.html rendered once per variant (PageKey) with a marker for each list
  and value; guidance cards, "why" lines, alarm items, charts and table rows once through the
  results macros with markers for the person's values, and each score's chart and row filled in
  for every value it can take (a few hundred; a wider score is filled in per request).
- **Stored answers.** A value in the cookie already in exactly the form the parser returns is taken
  as it is; only the others go through the parser (the checks live beside the parser, in
  domain/stored_answers.py; this switch picks them or the parser alone).

Questions themselves are always rendered from their pre-rendered markup (questions.py). Only the
questionnaire's own text is kept in memory, never anything about a person.
"""

from assessment.prerender.pages import ClientCondition
from assessment.prerender.pages import FormFor
from assessment.prerender.pages import PageLinks
from assessment.prerender.pages import Prerender
from assessment.prerender.pages import build
from assessment.prerender.pages import csrf_input
from assessment.prerender.questions import FormValue
from assessment.prerender.questions import QuestionMarkup
from assessment.prerender.questions import field_value

__all__ = [
    "ClientCondition",
    "FormFor",
    "FormValue",
    "PageLinks",
    "Prerender",
    "QuestionMarkup",
    "build",
    "csrf_input",
    "field_value",
]
