"""``data/README.md``: provenance, codebooks, weighting and the models.

The README is rendered from the same tables that generate the data, so the
documentation cannot drift from the files.

Examples
--------
>>> md_table(["a", "b"], [[1, "x"]])
'| a | b |\\n| --- | --- |\\n| 1 | x |\\n'
"""

from __future__ import annotations

import pandas as pd

from . import council as council_design
from . import response
from .attitudes import CUTS, DK_EFFECTS, MODEL, TRUST_NOISE_SD
from .codebook import (AGE_BANDS, COUNCIL, COUNCIL_STRATA, DIGITAL, EDUCATIONS, FIRST_ASKED, RECODES, REGIONS,
                       RENAMES, TRACKER, WAVES, tracker_variables)
from .manifests import wave_file
from .population import N_PEOPLE, PEOPLE_PER_PERSON, POPULATION_SIZE
from .targets import MARGINS
from .tracker import BUNDLED_WAVES, PREFER_NOT_RATES


def md_table(header, rows) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _codes(var) -> str:
    return "; ".join(f"{code} = {text}" for code, text in var.value_labels.items()) or "-"


def codebook_table(variables) -> str:
    """Name, wording, codes, user-missing codes and measure of each variable."""
    rows = [(f"`{v.name}`", v.label, _codes(v),
             ", ".join(str(c) for c in v.missing) or "-",
             v.measure if v.kind == "numeric" else f"{v.measure} (text)") for v in variables]
    return md_table(["Variable", "Wording / description", "Codes", "User-missing", "Measure"], rows)


def _factor_rows(labels: dict, factors) -> list:
    return [(label, f"{f:.2f}") for label, f in zip(labels.values(), factors)]


def _response_tables() -> str:
    age_gender = [(band, f"{m:.2f}", f"{w:.2f}") for band, m, w
                  in zip(AGE_BANDS.values(), *response.AGE_GENDER)]
    return "\n".join([
        "Age band by gender (A):\n",
        md_table(["Age band", "Man", "Woman"], age_gender),
        "Region (R):\n", md_table(["Region", "Factor"], _factor_rows(REGIONS, response.REGION)),
        "Education (E):\n",
        md_table(["Education", "Factor"], _factor_rows(EDUCATIONS, response.EDUCATION)),
        "Digital familiarity (D, online panel only):\n",
        md_table(["Digital familiarity", "Factor"], _factor_rows(DIGITAL, response.DIGITAL)),
    ])


def _weight_table(reports) -> str:
    rows = []
    for spec in BUNDLED_WAVES:
        r = reports[spec.wave]
        w = r.weights / r.weights.mean()
        rows.append((spec.wave, spec.n_online + spec.n_phone, spec.n_online, spec.n_phone,
                     r.iterations, f"{r.max_error:.1e}", r.merged_cells, f"{w.min():.3f}",
                     f"{w.max():.3f}", f"{r.kish_deff:.3f}", f"{r.efficiency:.1%}"))
    return md_table(["Wave", "n", "Online", "Phone", "Sweeps", "Largest gap", "Merged cells",
                     "Min weight", "Max weight", "Kish deff", "Efficiency"], rows)


def _model_table() -> str:
    rows = []
    for name, q in MODEL.items():
        effects = ", ".join(f"{k} {v:+.2f}" for k, v in q.effects.items())
        shift = " / ".join(f"{s:+.2f}" for s in q.shift)
        dk = "-" if q.dk is None else f"{q.dk:.1f}"
        rows.append((f"`{name}`", q.scale, f"{q.base:.2f}", shift, effects, f"{q.trust:.1f}",
                     f"{q.tech:.1f}", dk))
    return md_table(["Question", "Scale", "Base", "Shift 2021 / 22 / 23 / 24", "Effects", "T",
                     "A", "DK"], rows)


def _wave_differences() -> str:
    rows = []
    for wave in WAVES:
        notes = [f"`{old}` (harmonised `{new}`)" for old, new in RENAMES.get(wave, {}).items()]
        notes += [f"`{name}` on the 3-point scale, codes " + ", ".join(
            f"{old} -> {new}" for old, new in m.items()) for name, m in RECODES.get(wave, {}).items()]
        notes += [f"`{name}` not asked (first asked {first})"
                  for name, first in FIRST_ASKED.items() if wave < first]
        rows.append((wave, f"`{wave_file(wave)}`", len(tracker_variables(wave)),
                     "; ".join(notes) or "harmonised layout"))
    return md_table(["Wave", "File", "Columns", "Differences from the harmonised layout"], rows)


def _council_table(council: pd.DataFrame) -> str:
    rows = []
    for code, label in COUNCIL_STRATA.items():
        part = council[council["stratum"] == code]
        rows.append((code, label, council_design.OAS[code - 1], part["psu"].nunique(), len(part),
                     f"{council_design.STRATUM_TRUST[code - 1]:+.1f}",
                     f"{council_design.STRATUM_CHATBOT[code - 1]:+.1f}",
                     f"{council_design.STRATUM_SATISFACTION[code - 1]:+.1f}"))
    return md_table(["Stratum", "Wards", "OAs (fpc)", "OAs sampled", "Respondents",
                     "Trust effect", "Chatbot effect", "Satisfaction effect"], rows)


def render(*, seed: int, reports, council: pd.DataFrame) -> str:
    """The text of ``data/README.md``."""
    old_benefits = next(v for v in tracker_variables(2021) if v.name == "ai_benefits")
    sizes = ", ".join(f"{s.wave}: {s.n_online:,} + {s.n_phone}" for s in BUNDLED_WAVES)
    margins = ", ".join(" x ".join(m) for m in MARGINS)
    cuts = "; ".join(f"{k}: {', '.join(str(c) for c in v)}" for k, v in CUTS.items())
    dk = " + ".join(f"{v} * {k}" for k, v in DK_EFFECTS.items())
    pnts = ", ".join(f"{k} {v:.1%}" for k, v in PREFER_NOT_RATES.items())
    return f"""\
# Example data (synthetic)

Everything in this folder is **synthetic**: generated by `surveytools/datasets/` from a
made-up population. No real person's answers are in it. It is modelled on the UK
"Public attitudes to data and AI" tracker survey, but every number is invented.

- Generator: `surveytools.datasets` (this repository), seed **{seed}**.
- Regenerate: `python -m surveytools.datasets` (options `--out DIR`, `--seed N`). The same
  seed writes byte-identical CSV, JSON, TOML and Markdown files and SPSS files with identical
  data and metadata (an SPSS header holds its creation time); `tests/test_datasets.py` checks it.
- Licence: [CC0 1.0](https://creativecommons.org/publicdomain/zero/1.0/): no rights
  reserved, free to reuse for any purpose.

| File | What |
| --- | --- |
| `tracker/wave2021.sav`, `wave2022.sav`, `wave2023.sav` | tracker waves, SPSS with labels, user-missing codes and measures |
| `tracker/wave2024.csv` + `wave2024.codebook.json` | the latest wave as UTF-8 CSV plus its codebook (same metadata) |
| `tracker/waves.toml` | tracker manifest: waves, design, harmonisation |
| `tracker/targets.toml` | raking targets (population totals; format at the top of the file) |
| `tracker/population_truth.csv` | the true population values the estimates aim at |
| `council/residents2024.sav` + `council.toml` | council residents' survey with a stratified two-stage design |
| `tracker/indicators.toml`, `tracker/breakdowns.toml` | the indicator catalogue and the demographic breakdowns (hand-written, not generated) |
| `tracker/release/` | the "published" weighted tables, computed independently with R's survey package by `make_release.R` (rerun it after regenerating the waves) |

## The tracker

### Population

{N_PEOPLE:,} synthetic adults stand for the UK's {POPULATION_SIZE:,} adults (each for
{PEOPLE_PER_PERSON}); `population_size` in `targets.toml` is {POPULATION_SIZE}. Demographics are
drawn in a chain, each given the earlier ones: region (2021 census adult counts) -> age band
(London younger; South West, Wales and Scotland older) -> age -> gender (more women at older
ages) -> ethnicity (by region, London most diverse; younger adults more diverse) -> education
(older adults more often without qualifications; more graduates in London) -> disability
(rising with age and without qualifications) -> social grade (by education) -> digital
familiarity (lower with age, disability and no qualifications). `surveytools.datasets.generate_population()`
returns it; `population.py` holds the numbers.

### Samples and the response process

Each wave is an independent sample (respondents are not re-interviewed): {sizes} (online +
telephone). The online respondents are drawn by sequential Poisson sampling with chance
proportional to `A[age band, gender] * R[region] * E[education] * D[digital familiarity]`, so
young men, people without qualifications and people with low digital familiarity are
under-represented. The telephone boost draws adults with **low** digital familiarity with chance
proportional to `A * R * E`. Nothing else (ethnicity, disability, attitudes, the mode itself)
affects who answers, and a low-familiarity adult's overall chance is still a product of one
factor per weighting margin: raking to those margins removes the bias.

{_response_tables()}
"Prefer not to say" (code 9) is then given at random by some respondents: {pnts}.

### Weights

`weight` is the producer's final weight: design weights of 1 for every respondent (online and
telephone alike), raked by iterative proportional fitting to the population totals of the
margins {margins} (`targets.toml`). For weighting, respondents who answered
"Prefer not to say" are placed by their panel-profile answers (the released file keeps the 9).
Each sweep matches the margins in that order; raking stops when, after a full sweep, every cell
of every margin is within a relative 1e-10 of its target (at most 200 sweeps, else an error).
A cell with fewer than 20 respondents is first merged with the next cell of its margin
("Merged cells" below; it matters for the small samples `draw_wave` can draw).
**No trimming.** The raked weights are then scaled to **mean 1 within each wave** (they sum to
the wave's number of respondents; multiply by {POPULATION_SIZE:,} / n for population totals) and
rounded to 6 decimals.

{_weight_table(reports)}
Kish deff = n * sum(w^2) / (sum w)^2; efficiency = 1 / Kish deff.

### Harmonisation built in

Harmonised names and codes are those of 2024. The manifest `waves.toml` records how to get
there: `[waves.rename]` (name in that wave's file = harmonised name) and
`[waves.recode.ai_benefits]` (code in that wave's file = harmonised code).

{_wave_differences()}
The 3-point `ai_benefits` question of 2021 and 2022:

{codebook_table([old_benefits])}
Its three answers map to the middle codes 2, 3, 4 of the 5-point scale (8 stays "Don't know").
In the model a 5-point answer of 1 or 2 is given as "Risks outweigh", 3 as "About equal", 4 or 5
as "Benefits outweigh".

### The attitude model

For each question, `eta = base + shift[wave] + sum(effect * covariate) + T * trust trait +
A * technology trait`, where the two traits are standard normal and fixed per person across
waves. A 0-10 trust answer is `round(eta + {TRUST_NOISE_SD} * normal noise)` clipped to 0-10; an
ordinal answer is the category of `eta + logistic noise` between the cut points ({cuts}; for
yes/no, above 0 is "Yes"). "Don't know" comes first, with probability
`expit(DK + {dk})`. Covariates: `age` per decade from 48, `medium`/`low` digital familiarity,
`asian`/`black`/`mixed_other` ethnicity, `disabled`, `degree`/`no_qual`, `woman`, and the
regions `london`, `wales`, `scotland`, `ni`.

{_model_table()}
`ai_word` is drawn from lists of positive, neutral and negative words by the technology trait
(blank for about 5%, 20% with low digital familiarity); "ChatGPT" appears from 2023. Some words
are not ASCII ("naïve", "clichéd", "déjà-vu"). There is no mode effect.

### True values: `population_truth.csv`

Columns `wave, breakdown, group, variable, value, share`. For every wave and every closed
question: the share of each answer among the population with a substantive answer ("Don't know"
excluded from the base), for `breakdown = all` (`group = all`) and by `age_band` and
`digital_familiarity` (`group` = the code). For the 0-10 trust questions also the mean
(`value = mean`, the `share` column holding the mean). Codes are harmonised: in 2021 and 2022
`ai_benefits` has only 2, 3 and 4. `surveytools.datasets.population_truth(population, wave=...)`
computes the same table.

### Codebook (harmonised, as in 2024)

{codebook_table(TRACKER)}
In the SPSS files every numeric variable is stored as a number (value labels and user-missing
codes as above; measure levels set). In the CSV the codebook JSON holds the same metadata.

## Council residents' survey: `council/residents2024.sav`

A synthetic council's {int(council_design.OAS.sum())} output areas (OAs) are grouped into 8
strata of wards. Stage 1: a simple random sample of OAs without replacement in each stratum
(`fpc` = the number of OAs in the stratum). Stage 2: {council_design.ADDRESSES_PER_OA} addresses
per sampled OA, one adult answering at about {council_design.RESPONSE_RATE:.0%} of them.
`weight` is the design weight `(OAs in stratum / OAs sampled) * (adults in the OA / respondents
in the OA)`; the weights sum to an estimate of the council's adults
({council["weight"].sum():,.0f}). Design: `Design(weight="weight", strata="stratum", psu="psu",
fpc="fpc")`, as R's `svydesign(ids=~psu, strata=~stratum, fpc=~fpc, weights=~weight)`: the
variance comes from the first stage (ultimate clusters), with its finite population correction.
{len(council):,} respondents in {council["psu"].nunique()} OAs.

What makes the design matter: every OA has its own random area effect on each attitude (normal,
sd {council_design.OA_SD["trust"]} on the 0-10 trust scale, {council_design.OA_SD["chatbot"]} and
{council_design.OA_SD["satisfaction"]} on the logistic scales of the chatbot and satisfaction
questions), so answers are correlated within a PSU and design effects exceed 1; and the strata
differ (effects below; the North estates trust the council less, the University quarter is
younger and keener on an AI chatbot).

{_council_table(council)}
{codebook_table(COUNCIL)}"""
