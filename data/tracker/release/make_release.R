#!/usr/bin/env Rscript
# The example tracker's "published" weighted tables, computed independently of
# surveytools with R's survey package, straight from the raw wave files.
#
#   Rscript data/tracker/release/make_release.R
#
# writes, beside this script:
#   published_2021_2024.csv   one row per wave x question x breakdown x group x
#                             answer (or indicator): estimate (a proportion in
#                             [0, 1]), se, n (unweighted base), 17 significant digits
#   published_2021_2024.json  R.version.string, packageVersion("survey") and
#                             ("haven"), the md5 of every input file, the
#                             harmonisation applied and every R call, verbatim
#
# Harmonisation: the same as data/tracker/waves.toml, written out here by hand
# (R has no TOML reader in this environment) so that the release does not
# depend on surveytools' manifest code:
#   2021, 2022: column trust_government is renamed trust_govt;
#               ai_benefits (3-point: 1 Risks outweigh, 2 About equal,
#               3 Benefits outweigh) is recoded 1->2, 2->3, 3->4 onto the 5-point scale.
#   accept_exams is first asked in 2023.
# User-missing codes ("Don't know": 98 on the 0-10 trust scales, 8 elsewhere)
# are set to NA, so they are out of every base (svymean(..., na.rm = TRUE)).
# For the SPSS waves the script checks that the file declares exactly these
# codes as user-missing. For the CSV wave (R here has no JSON reader) they are
# taken as the tracker's codebook states them; surveytools reads them from
# wave2024.codebook.json, so a disagreement would show as a mismatch.

suppressPackageStartupMessages({
  library(survey)
  library(haven)
})

script_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
release_dir <- dirname(normalizePath(sub("^--file=", "", script_arg)))
tracker_dir <- dirname(release_dir)

old_ai_benefits <- c("1" = 2, "2" = 3, "3" = 4)
waves <- list(
  list(label = "2021", file = "wave2021.sav",
       rename = c(trust_government = "trust_govt"), recode = list(ai_benefits = old_ai_benefits)),
  list(label = "2022", file = "wave2022.sav",
       rename = c(trust_government = "trust_govt"), recode = list(ai_benefits = old_ai_benefits)),
  list(label = "2023", file = "wave2023.sav", rename = character(), recode = list()),
  list(label = "2024", file = "wave2024.csv", rename = character(), recode = list())
)

# question -> substantive codes, user-missing codes, indicators (suffix -> codes counted
# as yes; the indicator is named <question>_<suffix>, as in data/tracker/indicators.toml)
scale_of <- function(codes, missing, indicators) {
  list(codes = codes, missing = missing, indicators = indicators)
}
trust <- scale_of(0:10, 98, list(high = 7:10, low = 0:3))
secure <- scale_of(1:4, 8, list(trust = 3:4))
accept <- scale_of(1:5, 8, list(share = 4:5, unacceptable = 1:2))
benefits <- scale_of(1:5, 8, list(benefits = 4:5, risks = 1:2))
questions <- c(
  setNames(rep(list(trust), 8), paste0("trust_", c("nhs", "council", "govt", "police",
                                                   "researchers", "banks", "bigtech", "social"))),
  setNames(rep(list(secure), 3), paste0("secure_", c("nhs", "govt", "bigtech"))),
  setNames(rep(list(accept), 8), paste0("accept_", c("diagnosis", "fraud", "facial", "chatbot",
                                                     "healthshare", "exams", "transport",
                                                     "policing_predict"))),
  list(ai_benefits = benefits)
)
breakdowns <- c("age_band", "digital_familiarity")

read_wave <- function(path) {
  if (grepl("\\.sav$", path)) {
    data <- haven::read_sav(path, user_na = TRUE)
    declared <- lapply(data, function(x) attr(x, "na_values"))
    data <- as.data.frame(lapply(data, function(x) if (is.numeric(x)) as.numeric(x) else as.character(x)),
                          stringsAsFactors = FALSE)
    attr(data, "declared_missing") <- declared
    data
  } else {
    read.csv(path, fileEncoding = "UTF-8", stringsAsFactors = FALSE)
  }
}

harmonise <- function(data, wave) {
  for (old in names(wave$rename)) {
    if (!old %in% names(data)) stop(wave$file, ": column ", old, " to rename is absent")
    names(data)[names(data) == old] <- wave$rename[[old]]
    declared <- attr(data, "declared_missing")
    if (!is.null(declared)) names(declared)[names(declared) == old] <- wave$rename[[old]]
    attr(data, "declared_missing") <- declared
  }
  for (column in names(wave$recode)) {
    map <- wave$recode[[column]]
    x <- data[[column]]
    substantive <- !is.na(x) & !x %in% questions[[column]]$missing
    unmapped <- substantive & !as.character(x) %in% names(map)
    if (any(unmapped)) stop(wave$file, ": ", column, " row ", which(unmapped)[1], " has unmapped code ", x[unmapped][1])
    x[substantive] <- unname(map[as.character(x[substantive])])
    data[[column]] <- x
  }
  data
}

# NA for user-missing codes; stop on any code that is neither an answer nor user-missing.
answers_only <- function(data, column, spec, file) {
  x <- data[[column]]
  declared <- attr(data, "declared_missing")[[column]]
  if (!is.null(attr(data, "declared_missing")) && !setequal(declared, spec$missing)) {
    stop(file, ": ", column, " declares user-missing ", paste(declared, collapse = ","),
         ", expected ", paste(spec$missing, collapse = ","))
  }
  unknown <- !is.na(x) & !x %in% c(spec$codes, spec$missing)
  if (any(unknown)) stop(file, ": ", column, " row ", which(unknown)[1], " has unknown code ", x[unknown][1])
  x[x %in% spec$missing] <- NA
  x
}

fmt <- function(x) sprintf("%.17g", x)
calls <- character()
tables <- list()
inputs <- list()

for (wave in waves) {
  path <- file.path(tracker_dir, wave$file)
  inputs[[wave$file]] <- unname(tools::md5sum(path))
  data <- harmonise(read_wave(path), wave)
  asked <- intersect(names(questions), names(data))
  # one 0/1 column per answer and per indicator, NA where the answer is missing
  targets <- list()
  for (q in asked) {
    spec <- questions[[q]]
    x <- answers_only(data, q, spec, wave$file)
    rows <- c(
      lapply(spec$codes, function(code) list(answer = as.character(code), indicator = "",
                                             codes = code, column = paste0(q, "__", code))),
      lapply(names(spec$indicators), function(suffix) list(
        answer = "", indicator = paste0(q, "_", suffix), codes = spec$indicators[[suffix]],
        column = paste0(q, "_", suffix))))
    columns <- vapply(rows, function(row) row$column, "")
    for (row in rows) {
      data[[row$column]] <- ifelse(is.na(x), NA_real_, as.numeric(x %in% row$codes))
    }
    targets[[q]] <- list(rows = rows, columns = columns, answered = !is.na(x))
  }
  design <- svydesign(ids = ~1, weights = ~weight, data = data)
  calls <- c(calls, sprintf(paste(
    'wave %s: data <- %s; harmonised; for each question q with answers x (user-missing set to NA):',
    'data$<q>__<code> <- ifelse(is.na(x), NA, as.numeric(x == code)) for every answer code,',
    'data$<indicator> <- ifelse(is.na(x), NA, as.numeric(x %%in%% codes)) for every indicator;',
    'design <- svydesign(ids = ~1, weights = ~weight, data = data)'),
                            wave$label, if (grepl("\\.sav$", wave$file))
                              sprintf('haven::read_sav("%s", user_na = TRUE)', wave$file)
                            else sprintf('read.csv("%s", fileEncoding = "UTF-8")', wave$file)))

  for (q in asked) {
    t <- targets[[q]]
    formula <- as.formula(paste("~", paste(t$columns, collapse = " + ")))
    for (breakdown in c("total", breakdowns)) {
      if (breakdown == "total") {
        call <- bquote(svymean(.(formula), design, na.rm = TRUE))
        result <- eval(call)
        estimate <- matrix(coef(result), nrow = 1)
        se <- matrix(SE(result), nrow = 1)
        groups <- "all"
        n <- sum(t$answered)
      } else {
        call <- bquote(svyby(.(formula), .(as.formula(paste("~", breakdown))), design, svymean,
                             na.rm = TRUE))
        result <- eval(call)
        estimate <- as.matrix(result[, t$columns, drop = FALSE])
        se <- as.matrix(SE(result))
        groups <- as.character(result[[breakdown]])
        n <- as.vector(tapply(t$answered, factor(data[[breakdown]], levels = result[[breakdown]]), sum))
      }
      stopifnot(ncol(se) == length(t$columns), nrow(se) == length(groups))
      calls <- c(calls, sprintf("wave %s: %s", wave$label, paste(deparse(call, width.cutoff = 500L), collapse = " ")))
      for (i in seq_along(t$rows)) {
        row <- t$rows[[i]]
        tables[[length(tables) + 1]] <- data.frame(
          wave = wave$label, variable = q, breakdown = breakdown, group = groups,
          answer = row$answer, indicator = row$indicator,
          codes = paste(row$codes, collapse = " "),
          estimate = fmt(estimate[, i]), se = fmt(se[, i]), n = n,
          stringsAsFactors = FALSE)
      }
    }
  }
}

release <- do.call(rbind, tables)
write.csv(release, file.path(release_dir, "published_2021_2024.csv"), row.names = FALSE,
          quote = TRUE, na = "")

json_string <- function(x) {
  x <- gsub("\\\\", "\\\\\\\\", x)
  x <- gsub('"', '\\\\"', x)
  paste0('"', x, '"')
}
json_array <- function(x, indent) {
  paste0("[\n", paste0(indent, "  ", vapply(x, json_string, ""), collapse = ",\n"), "\n", indent, "]")
}
sidecar <- c(
  "{",
  paste0('  "description": ', json_string(paste(
    "Published weighted tables of the example tracker, computed with R's survey package from",
    "the raw wave files by make_release.R. estimate = weighted proportion of respondents",
    "giving the answer (or one of the indicator's codes) among those with a substantive",
    "answer (Don't know is user-missing and out of the base); se = its linearisation",
    "standard error; n = unweighted base.")), ","),
  paste0('  "script": "make_release.R",'),
  paste0('  "R_version": ', json_string(R.version.string), ","),
  paste0('  "survey_version": ', json_string(as.character(packageVersion("survey"))), ","),
  paste0('  "haven_version": ', json_string(as.character(packageVersion("haven"))), ","),
  paste0('  "created": ', json_string(format(Sys.time(), "%Y-%m-%dT%H:%M:%SZ", tz = "UTC")), ","),
  paste0('  "rows": ', nrow(release), ","),
  '  "inputs_md5": {',
  paste0("    ", json_string(names(inputs)), ": ", vapply(unlist(inputs), json_string, ""),
         collapse = ",\n"),
  "  },",
  paste0('  "harmonisation": ', json_array(c(
    "2021, 2022: trust_government renamed trust_govt",
    "2021, 2022: ai_benefits recoded 1->2, 2->3, 3->4",
    "accept_exams first asked in 2023",
    "user-missing (Don't know) 98 on trust_*, 8 on secure_*, accept_*, ai_benefits: set to NA"), "  "), ","),
  paste0('  "calls": ', json_array(calls, "  ")),
  "}")
writeLines(sidecar, file.path(release_dir, "published_2021_2024.json"), useBytes = TRUE)
cat("wrote", nrow(release), "rows to", file.path(release_dir, "published_2021_2024.csv"), "\n")
