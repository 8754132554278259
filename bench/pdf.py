"""PDF benchmark (DESIGN 8): prepared renderer vs naive WeasyPrint, and memory over many renders.

Run ``python -m bench.pdf`` from the repository root. Timings are compared only as ratios measured
in the same run, because this VM's second core comes and goes (DESIGN 9).
"""

from __future__ import annotations

import argparse
import gc
import html as html_lib
import io
import json
import statistics
import time
from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assessment.report.pdf import PDF_VARIANT
from assessment.report.pdf import Attachment
from assessment.report.pdf import PdfRenderer
from assessment.report.pdf import base_stylesheet

GOAL_MEDIAN_MS = 250.0
GOAL_RATIO = 0.7
GOAL_RSS_GROWTH_MB = 10.0

_SYMPTOMS = [
    ("Bloating", "Most days", "4 of 5"),
    ("Abdominal pain", "Several times a week", "3 of 5"),
    ("Cramping after meals", "Some days", "2 of 5"),
    ("Loose stools", "Several times a week", "3 of 5"),
    ("Constipation", "Rarely", "1 of 5"),
    ("Urgency", "Some days", "2 of 5"),
    ("Nausea", "Rarely", "1 of 5"),
    ("Heartburn or reflux", "Some days", "2 of 5"),
    ("Flatulence", "Most days", "4 of 5"),
    ("Feeling of incomplete emptying", "Some days", "2 of 5"),
    ("Fatigue", "Most days", "3 of 5"),
    ("Sleep disturbed by symptoms", "Rarely", "1 of 5"),
]

_HISTORY = [
    ("Age", "42"),
    ("Sex", "Female"),
    ("Symptoms for", "About 14 months"),
    ("Weight change in the last 6 months", "None reported"),
    ("Blood in stool", "No"),
    ("Night-time symptoms that wake you", "Yes, about once a week"),
    ("Family history of bowel cancer or IBD", "Not known"),
    ("Coeliac disease test done", "Yes, negative (2024)"),
    ("Recent antibiotics", "No"),
    ("Recent travel outside Europe", "No"),
    ("Current medicines", "Pantoprazole 20 mg on demand; ibuprofen occasionally"),
    ("Known allergies", "Penicillin (rash)"),
    ("Pregnancy possible", "No"),
    ("Alcohol per week", "2-4 units"),
    ("Smoking", "Never"),
]

_GLUTAMINE = [
    ("Takes L-glutamine", "Yes"),
    ("Dose", "5 g per day, powder in water"),
    ("Taking it since", "About 3 months"),
    ("Reason", "Read that it helps with a leaky gut"),
    ("Effect noticed", "Slightly less bloating, not sure"),
    ("Other supplements", "Probiotic capsule, magnesium 300 mg"),
    ("Kidney or liver disease known", "No"),
    ("Told the doctor about it", "Not yet"),
]

_FREE_TEXT = (
    "Symptoms are worse after bread and pasta and after stressful days at work. "
    "I tried leaving out milk for two weeks without a clear change. "
    "I would like to know whether further tests make sense and whether I should keep taking "
    "glutamine.\nQuestions: Is a breath test useful? Should I see a gastroenterologist?"
)


def _rows(items: Sequence[tuple[str, ...]]) -> str:
    """Return table rows with a row header and escaped cells."""
    out = []
    for first, *rest in items:
        cells = "".join(f"<td>{html_lib.escape(cell)}</td>" for cell in rest)
        out.append(f'<tr><th scope="row">{html_lib.escape(first)}</th>{cells}</tr>')
    return "".join(out)


def sample_html() -> str:
    """Return a realistic 3-page clinician summary like the app's report template."""
    paragraphs = "".join(
        f"<p>{html_lib.escape(text)}</p>"
        for text in [
            "This summary was prepared by the person named below with the Gut Check "
            "self-assessment before a doctor's visit. It reports their own answers and the "
            "questionnaire's rule-based hints; it is not a diagnosis and does not replace an "
            "examination.",
            "Hints are grouped by urgency. Alarm features are listed first; the remaining "
            "sections reproduce the answers in the order they were asked.",
        ]
    )
    guidance = "".join(
        f"<h3>{html_lib.escape(title)}</h3><p>{html_lib.escape(text)}</p>"
        for title, text in [
            (
                "Pattern of symptoms",
                "Recurrent abdominal pain with bloating and changed stool form for more than "
                "six months, without alarm features reported, fits a functional pattern. "
                "Guidelines suggest basic tests (blood count, CRP, coeliac serology, faecal "
                "calprotectin) before such a label is used.",
            ),
            (
                "L-glutamine",
                "Doses up to about 14 g per day have been used in studies for short periods. "
                "Evidence for benefit in irritable bowel symptoms is limited and mixed. People "
                "with kidney or liver disease should not take it without medical advice.",
            ),
            (
                "Medicines",
                "Regular ibuprofen can cause stomach and bowel symptoms. Long-term acid "
                "suppression can change stool habits. Both are worth discussing.",
            ),
            (
                "Diet",
                "A food and symptom diary for two weeks helps the visit. Restrictive diets "
                "such as low-FODMAP are best done with a dietitian.",
            ),
        ]
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gut Check: summary for your doctor</title>
<meta name="author" content="Gut Check">
<meta name="description" content="Patient-completed questionnaire, not a diagnosis">
</head>
<body>
<p class="footer-note">Patient-completed, not a diagnosis. Questionnaire v3, 2025-11-26.</p>
<h1>Gut Check: summary for your doctor</h1>
<p class="meta">Completed on 26 November 2025 at 09:14. Questionnaire version 3.</p>
{paragraphs}
<div class="alarm" role="note">
<h2>Please see a doctor promptly</h2>
<p><strong>Alarm feature reported:</strong> abdominal pain wakes the person at night, about
once a week. Night-time symptoms need a prompt medical assessment.</p>
</div>
<h2>Symptoms in the last 4 weeks</h2>
<table>
<thead><tr><th scope="col">Symptom</th><th scope="col">How often</th>
<th scope="col">Severity</th></tr></thead>
<tbody>{_rows(_SYMPTOMS)}</tbody>
</table>
<h2>History</h2>
<table><tbody>{_rows(_HISTORY)}</tbody></table>
<h2>L-glutamine and supplements</h2>
<table><tbody>{_rows(_GLUTAMINE)}</tbody></table>
<div class="note"><p>Glutamine is taken without a medical reason confirmed; bring the package
to the visit.</p></div>
<h2>Scores</h2>
<table>
<thead><tr><th scope="col">Score</th><th scope="col" class="num">Value</th>
<th scope="col">Range</th></tr></thead>
<tbody>
<tr><th scope="row">Symptom burden</th><td class="num">27</td><td>0-60</td></tr>
<tr><th scope="row">Impact on daily life</th><td class="num">12</td><td>0-30</td></tr>
<tr><th scope="row">Alarm features</th><td class="num">1</td><td>0-8</td></tr>
</tbody>
</table>
<h2 class="page-break">What the questionnaire suggests discussing</h2>
{guidance}
<h2>In the person's own words</h2>
<p class="free-text">{html_lib.escape(_FREE_TEXT)}</p>
<h2>About this summary</h2>
<p>The answers are embedded in this PDF as answers.json so they can be read back or imported.
Nothing was stored on the server.</p>
</body>
</html>"""


def sample_answers() -> bytes:
    """Return the answers JSON the sample document would embed."""
    answers = {"version": 3, "answers": {name: value for name, value, _ in _SYMPTOMS}}
    return json.dumps(answers, sort_keys=True).encode()


def _rss_mb() -> float:
    """Return this process's resident set size in MB, from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    msg = "VmRSS missing from /proc/self/status"
    raise RuntimeError(msg)


def _ms(call: Callable[[], bytes]) -> tuple[float, float]:
    """Time one call: wall-clock and process CPU milliseconds (CPU ignores a vanished core)."""
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def bench_pdf(
    html: str,
    *,
    runs: int = 30,
    rss_renders: int = 300,
    warmup: int = 3,
    stylesheet: str | None = None,
) -> dict[str, Any]:
    """Measure prepared vs naive render medians, their ratio and RSS growth, in one run."""
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    css_text = base_stylesheet() if stylesheet is None else stylesheet
    renderer = PdfRenderer(css_text)
    answers = sample_answers()
    attachment = Attachment("answers.json", answers, "The answers", "application/json")

    def prepared() -> bytes:
        return renderer.render(html, attachments=[attachment], title="Gut Check summary")

    def naive() -> bytes:
        # What the adapter avoids: a new FontConfiguration and a CSS parse on every call.
        font_config = FontConfiguration()
        css = weasyprint.CSS(string=css_text, font_config=font_config, url_fetcher=renderer.fetcher)
        document = weasyprint.HTML(string=html, url_fetcher=renderer.fetcher)
        pdf: bytes = document.write_pdf(
            stylesheets=[css],
            font_config=font_config,
            pdf_variant=PDF_VARIANT,
            presentational_hints=False,
            attachments=[weasyprint.Attachment(string=answers, name="answers.json")],
        )
        return pdf

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(prepared())).pages)
    for _ in range(warmup):
        prepared()
        naive()

    # Memory first, so the naive renders' own growth does not blur the prepared figure.
    gc.collect()
    rss_start = _rss_mb()
    for _ in range(rss_renders):
        prepared()
    gc.collect()
    rss_end = _rss_mb()

    # Interleaved, so both sides see the same share of the flaky second core.
    prepared_ms: list[tuple[float, float]] = []
    naive_ms: list[tuple[float, float]] = []
    for _ in range(runs):
        prepared_ms.append(_ms(prepared))
        naive_ms.append(_ms(naive))

    median_prepared = statistics.median(wall for wall, _ in prepared_ms)
    median_naive = statistics.median(wall for wall, _ in naive_ms)
    ratio = median_prepared / median_naive
    cpu_ratio = statistics.median(cpu for _, cpu in prepared_ms) / statistics.median(
        cpu for _, cpu in naive_ms
    )
    growth = rss_end - rss_start
    return {
        "pages": pages,
        "runs": runs,
        "median_ms": round(median_prepared, 1),
        "naive_median_ms": round(median_naive, 1),
        "ratio": round(ratio, 3),
        "cpu_ratio": round(cpu_ratio, 3),
        "rss_renders": rss_renders,
        "rss_start_mb": round(rss_start, 1),
        "rss_end_mb": round(rss_end, 1),
        "rss_growth_mb": round(growth, 1),
        "goal_median_ms_met": median_prepared <= GOAL_MEDIAN_MS,
        "goal_ratio_met": ratio <= GOAL_RATIO,
        "goal_rss_growth_met": growth <= GOAL_RSS_GROWTH_MB,
    }


def main(argv: list[str] | None = None) -> int:
    """Print the figures for the sample 3-page document; exit 1 when a goal is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=30, help="timed renders per side")
    parser.add_argument("--renders", type=int, default=300, help="renders for the RSS figure")
    args = parser.parse_args(argv)
    result = bench_pdf(sample_html(), runs=args.runs, rss_renders=args.renders)
    print(f"sample document: {result['pages']} pages, {args.runs} timed runs per side")
    print(
        f"prepared median: {result['median_ms']} ms (goal <= {GOAL_MEDIAN_MS:g} ms)"
        f" {'ok' if result['goal_median_ms_met'] else 'MISSED'}"
    )
    print(f"naive median:    {result['naive_median_ms']} ms")
    print(
        f"ratio:           {result['ratio']} (goal <= {GOAL_RATIO:g})"
        f" {'ok' if result['goal_ratio_met'] else 'MISSED'}; CPU-time ratio {result['cpu_ratio']}"
    )
    print(
        f"RSS over {result['rss_renders']} renders: {result['rss_start_mb']} -> "
        f"{result['rss_end_mb']} MB, growth {result['rss_growth_mb']} MB "
        f"(goal <= {GOAL_RSS_GROWTH_MB:g} MB) {'ok' if result['goal_rss_growth_met'] else 'MISSED'}"
    )
    print(json.dumps(result, sort_keys=True))
    met = result["goal_median_ms_met"] and result["goal_ratio_met"] and result["goal_rss_growth_met"]
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
