"""The text of each file ``init`` writes, every choice commented with why.

This module owns the layout of ``waves.toml``, ``indicators.toml``,
``breakdowns.toml`` and ``README.md`` from a
:class:`~surveytools.scaffold.model.Scaffold`.  Nothing here reads data or
decides anything: the decisions and their evidence come in the Scaffold.
Lines the analyst must check carry ``CHECK``; guesses not taken are written
as commented lines.  The output depends only on the Scaffold (no dates, no
absolute paths), so the same files give the same bytes.
"""

from __future__ import annotations

from ..core.meta import code_text
from .detect import Choice, DesignFound
from .model import Scaffold, WaveInfo
from .scales import span
from .toml import clean, comment_block, key, line, value

CHECK = "CHECK: "


def texts(found: Scaffold) -> dict[str, str]:
    """File name -> text for every file ``init`` writes."""
    return {"waves.toml": manifest(found), "indicators.toml": indicators(found),
            "breakdowns.toml": breakdowns(found), "README.md": readme(found)}


# -- waves.toml ---------------------------------------------------------------
def manifest(found: Scaffold) -> str:
    files = ", ".join(w.path.name for w in found.waves)
    out = [*comment_block(
        f"Tracker manifest scaffolded by `surveytools init` from {files}. Every value below is "
        "a guess from the files' metadata and data, with its evidence in a comment; lines "
        f"marked {CHECK.rstrip(': ')} are the uncertain ones. Check them before publishing "
        "anything (README.md lists what to check)."),
        *comment_block(f"Waves are listed {found.order}. Harmonised names are those of the "
                       f"latest wave ({found.latest.label})."), ""]
    out += ["[tracker]", line("name", found.name, "from the file names: change it"),
            line("shared_respondents", False, "assumed: each wave a new sample (set true for "
                 "a panel that re-interviews people)"),
            "", "[small_base]",
            line("suppress_below", 50,
                 "the surveytools defaults (DESIGN.md): suppress bases under 50"),
            line("flag_below", 100, "flag bases of 50-99"), ""]
    if found.shared_design:
        out += ["[design]", *_design_lines(found.design, every=len(found.waves) > 1), ""]
    else:
        out += comment_block("The waves' design columns differ, so each wave has its own "
                             "[waves.design] table below.") + [""]
    out += _missing(found)
    for wave in found.waves:
        out += _wave(found, wave)
    return "\n".join(out).rstrip() + "\n"


def _design_lines(design: DesignFound, *, every: bool = False) -> list[str]:
    out = []
    if every:
        out += comment_block("The same design columns in every wave; the evidence is the "
                             "latest wave's.")
    for choice in design.choices:
        out += _choice(choice)
    if design.nest:
        out.append(line("nest", True, design.nest_evidence,
                        commented=not (design.psu.sure and design.strata.sure)))
    if design.lonely:
        out.append(line("lonely_psu", "adjust", CHECK + design.lonely, commented=True))
    if design.replicates:
        out += comment_block(CHECK + design.replicates)
    return out


def _choice(choice: Choice) -> list[str]:
    out = []
    if choice.column is not None:
        # the weight is required, so an unsure weight is written and marked; an unsure
        # stratum, PSU or fpc is left commented out for the analyst
        out.append(line(choice.role, choice.column,
                        ("" if choice.sure else CHECK) + choice.evidence,
                        commented=not choice.sure and choice.role != "weight"))
    elif choice.role == "weight":
        out.append(line("weight", "...", CHECK + "no weight found: name the final weight column "
                        "(read_waves needs one)", commented=True))
    for other in choice.others:
        note = ("another candidate: " if other.usable else "not used: ") + other.evidence
        out.append(line(choice.role, other.column, note, commented=True))
    if choice.column is None and not choice.others and choice.role != "weight":
        out.append(f"# no {choice.role} column found by name or label")
    return out


def _missing(found: Scaffold) -> list[str]:
    plan = found.missing
    out = comment_block(
        "Non-answers the files do not declare missing, found by the audit "
        "(surveytools.core.nonanswers.audit): each code listed here is left out of every base. "
        "If a code is a real answer, delete it here and list it under "
        "[missing.count_as_answer] (e.g. q5 = [8]), with your reason.")
    if not (plan.values or plan.variables):
        out += ["# [missing]  (nothing to declare for every wave)"]
    else:
        out.append("[missing]                       # applies to every wave")
        out.append(line("labels", True, "the blunt alternative: every labelled code that looks "
                        "like a non-answer; the explicit list below says which", commented=True))
        if plan.values:
            for sentinel in plan.values:
                out += comment_block(f"{sentinel.comment}: " + ", ".join(sentinel.items))
            out.append(line("values", [s.code for s in plan.values],
                            "missing on every numeric item that has them"))
        for note in plan.not_shared:
            out += comment_block(note)
        if plan.variables:
            out.append("[missing.variables]")
            out += [line(d.variable, list(d.codes), d.comment) for d in plan.variables]
    out += ["# [missing.count_as_answer]", "# q5 = [8]  # a Don't know meant as an answer "
            "(only if you have a reason)", ""]
    return out


def _wave(found: Scaffold, wave: WaveInfo) -> list[str]:
    out = ["[[waves]]", line("label", wave.label, wave.evidence),
           line("file", wave.file, f"{wave.rows} rows, {wave.columns} columns"),
           "# fieldwork_start = YYYY-MM-DD  # not in the file: add the fieldwork dates "
           "(TOML dates, no quotes)",
           "# fieldwork_end = YYYY-MM-DD"]
    if wave.series_break is not None:
        out += comment_block(f"A series break: {wave.series_break.evidence}. No change from "
                             f"wave {wave.series_break.previous} is tested.")
        out += [line("comparable_with_previous", False),
                line("break_reason", wave.series_break.reason, "shown in tables and dashboards")]
    out.append("")
    if wave.changed:
        out.append("[waves.changed_questions]")
        out += comment_block(f"{CHECK}worded differently from the wave before: no change is "
                             "tested for these; delete a line if the new wording does not "
                             "change what is asked")
        out += [line(c.column, c.reason) for c in wave.changed] + [""]
    if wave.renames or wave.splits:
        out.append("[waves.rename]")
        out += [line(r.old, r.new, r.evidence) for r in wave.renames]
        out += [line(s.old, s.new, CHECK + s.evidence) for s in wave.splits]
        out.append("")
    for recode in wave.recodes:
        out += [f"[waves.recode.{key(recode.column)}]", *comment_block(recode.evidence)]
        out += [line(code_text(old), new) for old, new in recode.mapping.items()] + [""]
    if not found.shared_design:
        out += ["[waves.design]", *_design_lines(wave.design), ""]
    own = found.missing.waves.get(wave.label, ())
    if own:
        out += ["[waves.missing.variables]"]
        out += comment_block("for this wave only (harmonised names and codes, after "
                             "[waves.rename] and [waves.recode])")
        out += [line(d.variable, list(d.codes), d.comment) for d in own] + [""]
    return out


# -- indicators.toml ------------------------------------------------------------
def indicators(found: Scaffold) -> str:
    out = [*comment_block(
        "Indicator catalogue scaffolded by `surveytools init`: the default headline numbers of "
        "every question, grouped by topic (a battery of questions sharing a label stem or a "
        "name prefix). Defaults: 4-5 point scales get top-2 and bottom-2 shares and a net "
        "(top-2 minus bottom-2), 0-10 scales the share 7-10 and the mean, yes/no questions the "
        "share answering yes, other questions one share per answer. Don't know is excluded "
        "from every base (dont_know = \"exclude\"). Delete what you do not publish; the "
        "format is in surveytools/indicators/catalogue_file.py."), ""]
    if not found.indicators:
        out += comment_block("No question fitted a default indicator (see README.md for the "
                             "variables skipped and why): add [[indicator]] tables by hand.")
    specs = {}
    for spec in found.indicators:
        specs.setdefault(spec.question, []).append(spec)
    for battery in found.batteries:
        out += [f"# -- {clean(battery.topic)} " + "-" * max(3, 80 - len(clean(battery.topic)))]
        if battery.evidence:
            out += comment_block(battery.evidence)
        out.append("")
        for item in battery.items:
            if item.scale.evidence and (battery.evidence == "" or len(battery.items) == 1
                                        or battery.topic.startswith("Other")):
                out += comment_block(f"{item.name}: {item.scale.evidence}")
            for spec in specs.get(item.name, []):
                out += ["[[indicator]]", line("name", spec.name),
                        line("question", spec.question), line("kind", spec.kind)]
                if spec.kind == "share":
                    out.append(line("codes", list(spec.codes)))
                elif spec.kind == "net":
                    out += [line("plus", list(spec.codes)), line("minus", list(spec.minus))]
                out += [line("dont_know", "exclude"), line("topic", spec.topic),
                        line("label", spec.label), line("short_label", spec.short_label),
                        line("row_label", spec.row_label), ""]
    return "\n".join(out).rstrip() + "\n"


# -- breakdowns.toml -----------------------------------------------------------
def breakdowns(found: Scaffold) -> str:
    out = [*comment_block(
        "Breakdowns scaffolded by `surveytools init`: the demographic variables found by name "
        "and label, the best of each kind first. Without `groups` a breakdown's groups are the "
        "variable's labelled answers that are not user-missing; non-answers (Prefer not to "
        "say, Don't know) are never a group. Small groups are kept on purpose: the small-base rule "
        "suppresses or flags them. The format is in surveytools/indicators/catalogue_file.py."),
        ""]
    if not found.breakdowns:
        out += comment_block("No demographic variable with value labels was found: add "
                             "[[breakdown]] tables by hand (tables and dashboards need at "
                             "least one, so this file does not load until then).") + [""]
    for spec in found.breakdowns:
        out += comment_block(spec.evidence)
        if spec.groups_why:
            out += comment_block(spec.groups_why)
        out += ["[[breakdown]]", line("name", spec.name), line("variable", spec.variable),
                line("label", spec.label)]
        if spec.groups:
            out.append("groups = [")
            out += [f"  {{ label = {value(g.label)}, codes = {value(list(g.codes))} }},"
                    for g in spec.groups]
            out.append("]")
        out.append("")
    for unusable in found.unusable:
        out += comment_block(f"{unusable.variable} ({unusable.kind}) is no breakdown: "
                             f"{unusable.reason}")
    return "\n".join(out).rstrip() + "\n"


# -- README.md -------------------------------------------------------------------
def readme(found: Scaffold) -> str:
    design = found.design
    chosen = ", ".join(f"{c.role} `{c.column}`" + ("" if c.sure else " (check)")
                       for c in design.choices if c.column) or "no design column"
    out = [f"# {found.name}: tracker scaffolded by `surveytools init`", "",
           "Written from the metadata and data of:", ""]
    out += [f"- wave `{w.label}`: `{w.file}` ({w.rows} rows, {w.columns} columns)"
            for w in found.waves]
    out += ["", "## What was found", "",
            f"- Design: {chosen}" + (", `nest = true`" if design.nest else "") + ".",
            f"- Missing declarations: {len(found.missing.values)} code(s) for every numeric item, "
            f"{found.missing.count} per-variable declaration(s).",
            f"- {len(found.batteries)} topic(s), {len(found.indicators)} indicator(s), "
            f"{len(found.breakdowns)} breakdown(s): "
            + (", ".join(f"`{b.variable}`" for b in found.breakdowns) or "none") + "."]
    renames = sum(len(w.renames) for w in found.waves)
    if renames:
        out.append(f"- {renames} rename(s) between waves, from identical variable labels.")
    for wave in found.waves:
        if wave.series_break is not None:
            out.append(f"- Wave `{wave.label}` is not comparable with "
                       f"`{wave.series_break.previous}`: {wave.series_break.evidence}.")
        for change in wave.changed:
            out.append(f"- `{change.column}` changed in wave `{wave.label}`: {change.evidence}.")
        if wave.splits:
            out.append(f"- Wave `{wave.label}`: " + ", ".join(f"`{s.old}`" for s in wave.splits)
                       + " kept apart (its codes mean other things than in later waves).")
    out += ["", "## Check before publishing", "",
            "1. `waves.toml`: every line marked CHECK, the commented candidates, the "
            "fieldwork dates and the tracker's name.",
            "2. `[missing]` in `waves.toml`: each declared code leaves the base. A code that "
            "is a real answer moves to `[missing.count_as_answer]`.",
            "3. `indicators.toml`: the direction of each scale (top-2 is the positive end) and "
            "which indicators you publish.",
            "4. `breakdowns.toml`: the groups, and the demographics it could not use.", "",
            "## Use", "", "```bash", "surveytools tables waves.toml --out tables.xlsx",
            "surveytools serve waves.toml", "```", ""]
    if found.skipped:
        out += ["## Variables without indicators", ""]
        reasons: dict[str, list[str]] = {}
        for variable, reason in found.skipped:
            reasons.setdefault(reason, []).append(variable)
        for reason, names in reasons.items():
            shown = ", ".join(f"`{n}`" for n in names[:25])
            more = f" and {len(names) - 25} more" if len(names) > 25 else ""
            out.append(f"- {reason}: {shown}{more}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


# -- summary -------------------------------------------------------------------
def summary(found: Scaffold) -> str:
    """A plain-text account of what ``init`` found (the dry-run output)."""
    out = [f"surveytools init: {len(found.waves)} file(s) -> {found.out_dir}"]
    for wave in found.waves:
        out.append(f"  wave {wave.label}: {wave.path} ({wave.rows} rows, {wave.columns} "
                   f"columns; label from {wave.evidence})")
        for rename in wave.renames:
            out.append(f"    rename {rename.old} -> {rename.new} ({rename.evidence})")
        for split in wave.splits:
            out.append(f"    [check] rename {split.old} -> {split.new} ({split.evidence})")
        for recode in wave.recodes:
            pairs = ", ".join(f"{code_text(a)}->{code_text(b)}" for a, b in recode.mapping.items())
            out.append(f"    recode {recode.column}: {pairs} ({recode.evidence})")
        if wave.series_break is not None:
            out.append(f"    not comparable with {wave.series_break.previous}: "
                       f"{wave.series_break.evidence}")
        for change in wave.changed:
            out.append(f"    [check] question {change.column} changed: {change.evidence}")
    for wave in (found.waves if not found.shared_design else found.waves[-1:]):
        prefix = f"  design of {wave.label}:" if not found.shared_design else "  design:"
        for choice in wave.design.choices:
            if choice.column:
                mark = "" if choice.sure else " [check]"
                out.append(f"{prefix} {choice.role} = {choice.column}{mark} ({choice.evidence})")
            for other in choice.others:
                out.append(f"{prefix} {choice.role} candidate {other.column}: {other.evidence}")
        if wave.design.nest:
            out.append(f"{prefix} nest = true ({wave.design.nest_evidence})")
        if wave.design.lonely:
            out.append(f"{prefix} {wave.design.lonely}")
        if wave.design.replicates:
            out.append(f"{prefix} {wave.design.replicates}")
    plan = found.missing
    for sentinel in plan.values:
        out.append(f"  missing on every numeric item: {code_text(sentinel.code)} "
                   f"({len(sentinel.items)} items)")
    for declaration in plan.variables:
        out.append(f"  missing: {declaration.variable} = {value(list(declaration.codes))}  "
                   f"# {declaration.comment}")
    for label, declarations in plan.waves.items():
        for declaration in declarations:
            out.append(f"  missing in {label}: {declaration.variable} = "
                       f"{value(list(declaration.codes))}  # {declaration.comment}")
    for battery in found.batteries:
        names = ", ".join(i.name for i in battery.items[:8]) + (
            " ..." if len(battery.items) > 8 else "")
        out.append(f"  topic {battery.topic!r}: {len(battery.items)} question(s) ({names})")
    out.append(f"  indicators: {len(found.indicators)}")
    for spec in found.breakdowns:
        groups = (", ".join(f"{g.label} [{span(g.codes)}]" for g in spec.groups)
                  if spec.groups else "its labelled answers")
        out.append(f"  breakdown {spec.name}: {spec.variable} ({groups})")
    for unusable in found.unusable:
        out.append(f"  not a breakdown: {unusable.variable} ({unusable.reason})")
    if not found.breakdowns:
        out.append("  no breakdowns found: add one to breakdowns.toml (tables and dashboards "
                   "need at least one)")
    if not found.indicators:
        out.append("  no indicators: add them to indicators.toml")
    if found.skipped:
        out.append(f"  no indicator for {len(found.skipped)} variable(s) (see README.md)")
    if found.dry_run:
        out.append("  dry run: nothing written" + (
            f"; would need --force for {', '.join(found.existing)}" if found.existing else ""))
    else:
        out += [f"  wrote {path}" for path in found.written]
    return "\n".join(out)


__all__ = ["texts", "manifest", "indicators", "breakdowns", "readme", "summary", "key"]
