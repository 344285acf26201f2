# Reference for the cube's significance letters (tests/test_indicators_r.py):
# for a few indicator x breakdown x wave combinations of the example tracker,
# every pairwise difference between the groups of the breakdown, its design-based
# t test, the Benjamini-Hochberg adjustment within the breakdown and the letters.
#
# Run from the repository root (R >= 4.2 with survey and haven):
#   Rscript tests/reference/indicators/letters.R
# Writes, next to this script (17 significant digits; every row carries the R
# call that produced it, R.version.string and the survey and haven versions):
#   letters_pairs.csv   one row per pair of groups: difference, se, df, p_value, p_bh
#   letters_groups.csv  one row per group: estimate, se, n, letter, letters
#
# Definitions (DESIGN.md; surveytools.indicators.cube):
# - design: svydesign(ids = ~1, weights = ~weight) of one wave (the manifest's design);
# - base: respondents with an answer to the question that is not user-missing
#   (98 on the 0-10 trust items, 8 on the acceptability items; the codes the wave
#   files declare user-missing); respondents whose
#   breakdown answer is user-missing (9, "Prefer not to say") stay in the base but
#   are in no group;
# - a share is svymean of the 0/1 indicator, a net score svymean of +1 (plus codes)
#   / -1 (minus codes) / 0, a mean svymean of the answer; by group with
#   svyby(..., covmat = TRUE) on the base;
# - the difference of groups a < b is svycontrast(by, a - b); p = 2 pt(-|t|, df)
#   with df = degf(base) (the df of the design subset to the base);
# - groups on an unweighted base under 50 (the manifest's [small_base]) are
#   suppressed: their pairs get no p-value and do not count in p.adjust;
# - p.adjust(method = "BH") over the pairs of the breakdown; a group shows the
#   letters of the groups it is significantly higher than (adjusted p < 0.05);
#   group letters A, B, C ... in the order of the breakdown's groups (codes).
suppressPackageStartupMessages({library(survey); library(haven)})
options(digits = 17)
here <- "tests/reference/indicators"
RV <- R.version.string
SV <- as.character(packageVersion("survey"))
HV <- as.character(packageVersion("haven"))
fmt <- function(x) ifelse(is.na(x), NA, sprintf("%.17g", x))
SUPPRESS_BELOW <- 50
ALPHA <- 0.05

read_wave <- function(path) {
  d <- if (grepl("\\.sav$", path)) zap_labels(read_sav(path, user_na = TRUE)) else read.csv(path)
  as.data.frame(d)
}

# indicator: the analysed column y of the base (NA outside it)
indicator_column <- function(d, question, kind, codes, minus, dk) {
  x <- d[[question]]
  out <- switch(kind,
    share = as.numeric(x %in% codes),
    net = ifelse(x %in% codes, 1, ifelse(x %in% minus, -1, 0)),
    mean = as.numeric(x))
  out[is.na(x) | x %in% dk] <- NA
  out
}

# label, wave file, question, kind, codes (share/net plus), minus (net), user-missing
# codes of the question, breakdown name, breakdown variable, its groups (codes)
cases <- list(
  list(wave = "2024", file = "data/tracker/wave2024.csv", indicator = "trust_govt_high",
       question = "trust_govt", kind = "share", codes = 7:10, minus = integer(), dk = 98,
       breakdown = "region", variable = "region", groups = 1:12),
  list(wave = "2023", file = "data/tracker/wave2023.sav", indicator = "accept_policing_predict_net",
       question = "accept_policing_predict", kind = "net", codes = 4:5, minus = 1:2, dk = 8,
       breakdown = "ethnicity", variable = "ethnicity", groups = 1:5),
  list(wave = "2022", file = "data/tracker/wave2022.sav", indicator = "ai_awareness_mean",
       question = "ai_awareness", kind = "mean", codes = integer(), minus = integer(),
       dk = integer(), breakdown = "education", variable = "education", groups = 1:4)
)

pairs_out <- list()
groups_out <- list()
for (case in cases) {
  d <- read_wave(case$file)
  d$y <- indicator_column(d, case$question, case$kind, case$codes, case$minus, case$dk)
  d$g <- ifelse(d[[case$variable]] %in% case$groups, d[[case$variable]], NA)
  des <- svydesign(ids = ~1, weights = ~weight, data = d)
  base <- subset(des, !is.na(y))
  df <- degf(base)
  by <- svyby(~y, ~g, base, svymean, covmat = TRUE)  # groups with NA g are in no domain
  stopifnot(identical(as.numeric(as.character(by$g)), as.numeric(case$groups)))
  n <- as.vector(table(factor(d$g[!is.na(d$y)], levels = case$groups)))
  suppressed <- n < SUPPRESS_BELOW
  letter <- LETTERS[seq_along(case$groups)]
  define <- sprintf(paste(
    "d <- %s; y <- %s of %s (user-missing %s -> NA); g <- %s in {%s} else NA;",
    "base <- subset(svydesign(ids = ~1, weights = ~weight, data = d), !is.na(y));",
    "by <- svyby(~y, ~g, base, svymean, covmat = TRUE)"),
    if (grepl("sav$", case$file)) sprintf("zap_labels(read_sav('%s', user_na = TRUE))", case$file)
    else sprintf("read.csv('%s')", case$file),
    switch(case$kind, share = sprintf("%s %%in%% c(%s)", case$question, toString(case$codes)),
           net = sprintf("+1 if %s %%in%% c(%s), -1 if in c(%s), else 0", case$question,
                         toString(case$codes), toString(case$minus)),
           mean = case$question),
    case$question, if (length(case$dk)) toString(case$dk) else "none",
    case$variable, toString(case$groups))
  k <- length(case$groups)
  rows <- NULL
  for (i in 1:(k - 1)) for (j in (i + 1):k) {
    w <- rep(0, k); w[i] <- 1; w[j] <- -1
    con <- svycontrast(by, w)
    rows <- rbind(rows, data.frame(a = case$groups[i], b = case$groups[j],
                                   difference = unname(coef(con)), se = as.numeric(SE(con))))
  }
  rows$df <- df
  rows$p_value <- 2 * pt(-abs(rows$difference / rows$se), df)
  rows$p_value[suppressed[match(rows$a, case$groups)] | suppressed[match(rows$b, case$groups)]] <- NA
  rows$p_bh <- p.adjust(rows$p_value, method = "BH")
  rows$significant <- !is.na(rows$p_bh) & rows$p_bh < ALPHA
  higher <- ifelse(rows$difference > 0, rows$a, rows$b)
  lower <- ifelse(rows$difference > 0, rows$b, rows$a)
  letters_of <- sapply(case$groups, function(g) {
    beaten <- sort(lower[rows$significant & higher == g])
    paste(letter[match(beaten, case$groups)], collapse = "")
  })
  pair_call <- paste(define, "; svycontrast(by, e_a - e_b); p = 2 * pt(-abs(t), degf(base)),",
                     sprintf("NA for a group with n < %d;", SUPPRESS_BELOW),
                     "p.adjust(p, method = 'BH') over the pairs")
  pairs_out[[length(pairs_out) + 1]] <- data.frame(
    wave = case$wave, indicator = case$indicator, kind = case$kind, breakdown = case$breakdown,
    a = rows$a, b = rows$b, letter_a = letter[match(rows$a, case$groups)],
    letter_b = letter[match(rows$b, case$groups)], difference = fmt(rows$difference),
    se = fmt(rows$se), df = rows$df, p_value = fmt(rows$p_value), p_bh = fmt(rows$p_bh),
    significant = rows$significant, call = pair_call, r_version = RV, survey_version = SV,
    haven_version = HV, stringsAsFactors = FALSE)
  groups_out[[length(groups_out) + 1]] <- data.frame(
    wave = case$wave, indicator = case$indicator, kind = case$kind, breakdown = case$breakdown,
    group = case$groups, estimate = fmt(coef(by)), se = fmt(SE(by)), n = n,
    suppressed = suppressed, letter = letter, letters = letters_of,
    call = paste(define, sprintf("; coef(by), SE(by); letters: BH-adjusted p < %g", ALPHA)),
    r_version = RV, survey_version = SV, haven_version = HV, stringsAsFactors = FALSE)
}
write.csv(do.call(rbind, pairs_out), file.path(here, "letters_pairs.csv"), row.names = FALSE)
write.csv(do.call(rbind, groups_out), file.path(here, "letters_groups.csv"), row.names = FALSE)
cat(RV, "survey", SV, "haven", HV, "\n")
