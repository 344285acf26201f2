# Reference values for tests/test_realworld_fixtures.py: R's survey package on the
# real-world-style SPSS fixtures of tests/fixtures/realworld.py.
#
# Regenerate (from the repository root):
#   .venv/bin/python -m tests.fixtures.realworld /tmp/realworld
#   Rscript tests/reference/realworld/realworld.R /tmp/realworld
#
# The first command writes the .sav files (pyreadstat and GNU PSPP) and
# checksums.csv (what Python reads back from them); this script reads the files
# with haven::read_sav(user_na = TRUE), sets every non-answer code to NA as a
# correct analysis would (negative codes, 8/9, 98/99, 9999 ...), builds the
# designs and writes
#   reference.csv  one row per estimate: estimate, se, ci_low, ci_high, df, n,
#                  the R call, and R / survey / haven versions;
#   checksums.csv  n_rows, n_cols, sum of weights, total of all numeric values
#                  and weighted sums of the analysed raw columns, computed here
#                  (and checked against Python's), plus Python's sha256 of the
#                  data values; the test regenerates the fixtures and checks
#                  these before it compares any estimate.
# Values are written with 17 significant digits.
suppressMessages({library(survey); library(haven)})
options(digits = 17, survey.lonely.psu = "fail")
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript tests/reference/realworld/realworld.R FIXTURE_DIR")
indir <- args[1]
here <- "tests/reference/realworld"

SV <- as.character(packageVersion("survey")); HV <- as.character(packageVersion("haven"))
VERSIONS <- sprintf("%s; survey %s; haven %s", R.version.string, SV, HV)
# the same, split as every reference CSV of the project carries them (tests/test_packaging.py)
version_columns <- function() data.frame(versions = VERSIONS, r_version = R.version.string,
                                         survey_version = SV, haven_version = HV)
fmt <- function(x) format(unname(x), digits = 17)
rows <- list()
put <- function(fixture, statistic, variable, value, by, group, estimate, se, ci, df, n, missing,
                call) {
  rows[[length(rows) + 1]] <<- data.frame(
    fixture = fixture, statistic = statistic, variable = variable, value = value, by = by,
    group = group, estimate = fmt(estimate), se = fmt(se), ci_low = fmt(ci[1]),
    ci_high = fmt(ci[2]), df = fmt(df), n = n, treated_as_missing = missing, r_call = call,
    version_columns(), stringsAsFactors = FALSE)
}
run <- function(call) eval(parse(text = call), envir = globalenv())

# the codes of a labelled column as a plain numeric vector
num <- function(x) as.vector(unclass(x))
# ... with the non-answer codes set to NA (and every negative code when negative = TRUE)
nonanswer <- function(x, codes = numeric(0), negative = FALSE) {
  x <- num(x)
  x[x %in% codes | (negative & !is.na(x) & x < 0)] <- NA
  x
}

# one mean (or share: the mean of a 0/1 indicator) of a domain that keeps the design
estimate_row <- function(fixture, dname, statistic, variable, column, value, by = "", group = "",
                         missing = "") {
  cond <- sprintf("!is.na(%s)", column)
  if (by != "") cond <- sprintf("%s & %s == %s", cond, by, group)
  sub <- sprintf("subset(%s, %s)", dname, cond)
  mcall <- sprintf("svymean(~%s, %s)", column, sub)
  m <- run(mcall)
  df <- run(sprintf("degf(%s)", sub))
  n <- run(sprintf("sum(weights(%s, \"sampling\") != 0)", sub))
  if (statistic == "mean") {
    ci <- confint(m, df = df)
    call <- sprintf("m <- %s; confint(m, df = degf(%s))", mcall, sub)
  } else {
    ccall <- sprintf("svyciprop(~%s, %s, method = \"logit\")", column, sub)
    p <- run(ccall)
    # svyciprop's estimate is expit() of an IRLS intercept: equal to svymean's up to the
    # glm convergence (about 1e-11 here); the CSV keeps svymean's value
    stopifnot(isTRUE(all.equal(as.numeric(coef(p)), as.numeric(coef(m)), tolerance = 1e-9)))
    ci <- confint(p)
    call <- sprintf("%s; %s (df = degf(%s), its default)", mcall, ccall, sub)
  }
  put(fixture, statistic, variable, value, by, group, coef(m), SE(m), ci, df, n, missing, call)
  invisible(c(coef(m), SE(m)))
}

# svyby over the groups, checked against one subset per group (the CSV rows)
by_rows <- function(fixture, dname, statistic, variable, column, value, by, missing) {
  bcall <- sprintf("svyby(~%s, ~%s, subset(%s, !is.na(%s) & !is.na(%s)), svymean)",
                   column, by, dname, column, by)
  b <- run(bcall)
  for (g in sort(unique(na.omit(get(dname)$variables[[by]])))) {
    one <- estimate_row(fixture, dname, statistic, variable, column, value, by, g, missing)
    k <- which(b[[by]] == g)
    stopifnot(isTRUE(all.equal(unname(one), unname(c(coef(b)[k], SE(b)[k])), tolerance = 1e-12)))
  }
  cat(fixture, bcall, "\n")
  print(b)
}

# ---- bsa_style: stratified, clustered (Spoint numbered within StratID) ----
bsa <- read_sav(file.path(indir, "bsa_style.sav"), user_na = TRUE)
bsa_d <- data.frame(
  WtFactor = num(bsa$WtFactor), StratID = num(bsa$StratID), Spoint = num(bsa$Spoint),
  GovTrust = nonanswer(bsa$GovTrust, c(8, 9), negative = TRUE),    # 8 Don`t know, 9 Refusal
  RAgeCat = nonanswer(bsa$RAgeCat, c(8, 9), negative = TRUE),      # 9 Refusal
  TrstNHS = nonanswer(bsa$TrstNHS, c(98, 99), negative = TRUE),    # 98 Don't know, 99 Refusal
  GOR_ID = num(bsa$GOR_ID))
bsa_d$GovTrust_top2 <- as.numeric(bsa_d$GovTrust <= 2)
bsa_d$TrstNHS_7to10 <- as.numeric(bsa_d$TrstNHS >= 7)
nested <- tryCatch(svydesign(ids = ~Spoint, strata = ~StratID, weights = ~WtFactor,
                             data = bsa_d), error = conditionMessage)
stopifnot(is.character(nested))   # without nest = TRUE R refuses: PSU numbers repeat over strata
cat("bsa_style without nest=TRUE:", nested, "\n")
bsa_des <- svydesign(ids = ~Spoint, strata = ~StratID, weights = ~WtFactor, nest = TRUE,
                     data = bsa_d)
print(bsa_des)
cat("degf(bsa_des) =", degf(bsa_des), "\n")
M_GOV <- "GovTrust 8, 9 and negative codes"
estimate_row("bsa_style", "bsa_des", "mean", "GovTrust", "GovTrust", "", missing = M_GOV)
by_rows("bsa_style", "bsa_des", "mean", "GovTrust", "GovTrust", "", "RAgeCat",
        paste0(M_GOV, "; RAgeCat 8, 9 and negative codes"))
estimate_row("bsa_style", "bsa_des", "proportion", "GovTrust", "GovTrust_top2", "1,2",
             missing = M_GOV)
by_rows("bsa_style", "bsa_des", "proportion", "TrstNHS", "TrstNHS_7to10", "7,8,9,10", "GOR_ID",
        "TrstNHS 98, 99 and negative codes")

# ---- election_style: weights only, nothing declared missing -----------------
bes <- read_sav(file.path(indir, "election_style.sav"), user_na = TRUE)
bes_d <- data.frame(
  wt_full_W1 = num(bes$wt_full_W1),
  likeLab = nonanswer(bes$likeLab, 9999), likeCon = nonanswer(bes$likeCon, 9999),
  likeSNP = nonanswer(bes$likeSNP, 9999),          # system-missing outside Scotland too
  gender = num(bes$gender))
bes_d$likeLab_7to10 <- as.numeric(bes_d$likeLab >= 7)
bes_des <- svydesign(ids = ~1, weights = ~wt_full_W1, data = bes_d)
print(bes_des)
estimate_row("election_style", "bes_des", "mean", "likeLab", "likeLab", "",
             missing = "likeLab 9999")
estimate_row("election_style", "bes_des", "proportion", "likeLab", "likeLab_7to10", "7,8,9,10",
             missing = "likeLab 9999")
estimate_row("election_style", "bes_des", "mean", "likeSNP", "likeSNP", "",
             missing = "likeSNP 9999 (and system-missing outside Scotland)")
by_rows("election_style", "bes_des", "mean", "likeCon", "likeCon", "", "gender", "likeCon 9999")

# ---- pspp_written: stratified cluster design, psu ids unique over strata ---
ps <- read_sav(file.path(indir, "pspp_written.sav"), user_na = TRUE)
ps_d <- data.frame(
  wgt = num(ps$wgt), strata_id = num(ps$strata_id), psu_id = num(ps$psu_id),
  q1 = nonanswer(ps$q1, c(8, 9)),                  # 8 Dont know, 9 Refused (undeclared)
  q3 = nonanswer(ps$q3, negative = TRUE),          # -9 THRU -1 declared in the file
  agegrp = num(ps$agegrp))
ps_d$q1_top2 <- as.numeric(ps_d$q1 <= 2)
ps_des <- svydesign(ids = ~psu_id, strata = ~strata_id, weights = ~wgt, data = ps_d)
print(ps_des)
estimate_row("pspp_written", "ps_des", "mean", "q3", "q3", "", missing = "q3 -9 thru -1")
estimate_row("pspp_written", "ps_des", "proportion", "q1", "q1_top2", "1,2", missing = "q1 8, 9")
by_rows("pspp_written", "ps_des", "proportion", "q1", "q1_top2", "1,2", "agegrp", "q1 8, 9")

out <- do.call(rbind, rows)
write.csv(out, file.path(here, "reference.csv"), row.names = FALSE)
cat("wrote", nrow(out), "reference rows\n")

# ---- checksums of the data values -----------------------------------------
python <- read.csv(file.path(indir, "checksums.csv"), colClasses = "character")
checked <- list(bsa_style = c("WtFactor", "GovTrust", "RAgeCat", "TrstNHS", "GOR_ID"),
                election_style = c("wt_full_W1", "likeLab"),
                pspp_written = c("wgt", "q1", "q3", "psu_id"),
                two_surveys_2019 = c("WtFactor", "TrstNHS"),
                two_surveys_2023 = c("WtFactor", "TrstNHS"))
sums <- list()
for (fixture in names(checked)) {
  file <- unique(python$file[python$fixture == fixture])
  d <- read_sav(file.path(indir, file), user_na = TRUE)
  w <- num(d[[checked[[fixture]][1]]])
  numeric_cols <- Filter(function(x) is.numeric(num(x)) && !inherits(x, c("Date", "POSIXct")),
                         as.list(d))
  mine <- c(n_rows = nrow(d), n_cols = ncol(d), sum_weight = sum(w),
            numeric_total = sum(sapply(numeric_cols, function(x) sum(num(x), na.rm = TRUE))))
  for (column in checked[[fixture]][-1]) {
    x <- num(d[[column]])
    mine[[paste0("wsum:", column)]] <- sum(w * x, na.rm = TRUE)
  }
  call <- sprintf(paste0("d <- read_sav(\"%s\", user_na = TRUE); n_rows = nrow(d); n_cols = ",
                         "ncol(d); sum_weight = sum(d$%s); numeric_total = sum of every ",
                         "non-missing value of the numeric, non-date columns; wsum:x = ",
                         "sum(d$%s * x, na.rm = TRUE) (raw codes)"),
                  file, checked[[fixture]][1], checked[[fixture]][1])
  for (q in names(mine)) {
    theirs <- as.numeric(python$value[python$fixture == fixture & python$quantity == q])
    if (!isTRUE(all.equal(theirs, unname(mine[[q]]), tolerance = 1e-12)))
      stop(fixture, " ", q, ": R ", fmt(mine[[q]]), " but Python ", fmt(theirs))
    sums[[length(sums) + 1]] <- data.frame(fixture = fixture, file = file, quantity = q,
                                           value = fmt(mine[[q]]), r_call = call,
                                           version_columns())
  }
  sha <- python$value[python$fixture == fixture & python$quantity == "sha256"]
  sums[[length(sums) + 1]] <- data.frame(
    fixture = fixture, file = file, quantity = "sha256", value = sha,
    r_call = paste("from checksums.csv of python -m tests.fixtures.realworld",
                   "(fixtures.realworld.data_checksums)"),
    version_columns())
}
write.csv(do.call(rbind, sums), file.path(here, "checksums.csv"), row.names = FALSE)
cat("wrote", length(sums), "checksums (R's sums agree with Python's)\n")
