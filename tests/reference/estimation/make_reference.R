# Reference values for tests/test_reference_estimation.py, from R's survey package.
#
# Regenerate (from the repository root):
#   Rscript tests/reference/estimation/make_reference.R
# Writes inputs/*.csv (the data every case reads, replicate weights included)
# and reference.csv: one row per value, with the R call that produced it,
# R.version.string and packageVersion("survey"). Values are written with
# 17 significant digits.
suppressMessages(library(survey))
options(digits = 17, survey.lonely.psu = "fail")
here <- "tests/reference/estimation"
inputs <- file.path(here, "inputs")
dir.create(inputs, showWarnings = FALSE)
set.seed(20240601)
data(api); data(nhanes)

RV <- R.version.string
SV <- as.character(packageVersion("survey"))
rows <- list()
fmt <- function(x) format(x, digits = 17)
put <- function(case, design, kind, variable, by, value, ci, key, quantity, x, call) {
  rows[[length(rows) + 1]] <<- data.frame(
    case = case, design = design, kind = kind, variable = variable, by = by,
    value = value, ci = ci, key = key, quantity = quantity, r_value = fmt(unname(x)),
    call = call, r_version = RV, survey_version = SV, stringsAsFactors = FALSE)
}
run <- function(call) eval(parse(text = call), envir = globalenv())

# ---- input data -----------------------------------------------------------
nhanes$agecat <- as.character(nhanes$agecat)
write.csv(apistrat, file.path(inputs, "apistrat.csv"), row.names = FALSE)
write.csv(apiclus1, file.path(inputs, "apiclus1.csv"), row.names = FALSE)
write.csv(apiclus2, file.path(inputs, "apiclus2.csv"), row.names = FALSE)
write.csv(nhanes, file.path(inputs, "nhanes.csv"), row.names = FALSE)
# BRR and Fay need two PSUs in every stratum: the nhanes strata that have two
psus <- tapply(nhanes$SDMVPSU, nhanes$SDMVSTRA, function(x) length(unique(x)))
nhanes2 <- nhanes[nhanes$SDMVSTRA %in% as.numeric(names(psus)[psus == 2]), ]
write.csv(nhanes2, file.path(inputs, "nhanes2.csv"), row.names = FALSE)
# a design with a lonely stratum: apiclus2's 40 districts in 4 strata, the first holds one
lonely <- apiclus2
districts <- sort(unique(lonely$dnum))
lonely$lstr <- ifelse(lonely$dnum == districts[1], 1, 2 + (match(lonely$dnum, districts) %% 3))
write.csv(lonely, file.path(inputs, "lonely.csv"), row.names = FALSE)
# two independent waves stacked as one design (waves as strata)
w1 <- data.frame(wave = 1, stratum = paste0("1", apistrat$stype), psu = paste0("s", seq_len(nrow(apistrat))),
                 fpc = apistrat$fpc, pw = apistrat$pw, api00 = apistrat$api00,
                 stype = apistrat$stype, sch.wide = apistrat$sch.wide)
w2 <- data.frame(wave = 2, stratum = "2", psu = paste0("c", apiclus1$dnum), fpc = apiclus1$fpc,
                 pw = apiclus1$pw, api00 = apiclus1$api00, stype = apiclus1$stype,
                 sch.wide = apiclus1$sch.wide)
stacked <- rbind(w1, w2)
write.csv(stacked, file.path(inputs, "stacked.csv"), row.names = FALSE)

# add 0/1 indicators R's svyciprop needs (Python uses value= on the original column)
ind <- function(d) { if (!is.null(d$sch.wide)) d$sw_yes <- as.numeric(d$sch.wide == "Yes");
                     if (!is.null(d$HI_CHOL)) d$chol_yes <- as.numeric(d$HI_CHOL == 1); d }
apistrat <- ind(apistrat); apiclus1 <- ind(apiclus1); apiclus2 <- ind(apiclus2)
nhanes <- ind(nhanes); nhanes2 <- ind(nhanes2); lonely <- ind(lonely); stacked <- ind(stacked)

# ---- designs -------------------------------------------------------------
strat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
clus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1)
clus2 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus2)
nh <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = nhanes)
nh2 <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = nhanes2)
lonely_d <- svydesign(id = ~dnum, strata = ~lstr, weights = ~pw, data = lonely)
stack_d <- svydesign(id = ~psu, strata = ~stratum, weights = ~pw, fpc = ~fpc, data = stacked)
jkn_base <- svydesign(id = ~dnum, strata = ~stype, weights = ~pw, nest = TRUE, data = apistrat)
reps <- list(
  jk1 = as.svrepdesign(clus1, type = "JK1"),
  jkn = as.svrepdesign(jkn_base, type = "JKn"),
  brr = as.svrepdesign(nh2, type = "BRR"),
  fay = as.svrepdesign(nh2, type = "Fay", fay.rho = 0.3),
  boot = as.svrepdesign(clus1, type = "bootstrap", replicates = 50))
rep_calls <- c(jk1 = "as.svrepdesign(clus1, type = 'JK1')", jkn = "as.svrepdesign(jkn_base, type = 'JKn')",
               brr = "as.svrepdesign(nh2, type = 'BRR')", fay = "as.svrepdesign(nh2, type = 'Fay', fay.rho = 0.3)",
               boot = "as.svrepdesign(clus1, type = 'bootstrap', replicates = 50)")
rep_source <- c(jk1 = "apiclus1", jkn = "apistrat", brr = "nhanes2", fay = "nhanes2", boot = "apiclus1")
scales <- list()
for (nm in names(reps)) {
  rw <- weights(reps[[nm]], "analysis")
  colnames(rw) <- paste0("rw", seq_len(ncol(rw)))
  write.csv(as.data.frame(rw), file.path(inputs, paste0("repweights_", nm, ".csv")), row.names = FALSE)
  scales[[nm]] <- data.frame(design = nm, data = rep_source[[nm]], scale = fmt(reps[[nm]]$scale),
                             rscales = paste(fmt(reps[[nm]]$rscales), collapse = " "),
                             mse = reps[[nm]]$mse, type = reps[[nm]]$type, degf = degf(reps[[nm]]),
                             call = sprintf("r <- %s; r$scale, r$rscales, r$mse, r$type, degf(r)", rep_calls[[nm]]),
                             r_version = RV, survey_version = SV)
}
write.csv(do.call(rbind, scales), file.path(here, "replicate_designs.csv"), row.names = FALSE)
rep_jk1 <- reps$jk1; rep_jkn <- reps$jkn; rep_brr <- reps$brr; rep_fay <- reps$fay; rep_boot <- reps$boot

# ---- helpers --------------------------------------------------------------
domains_of <- function(design, by) {
  if (length(by) == 0) return(list(list(key = "", cond = "TRUE")))
  combos <- unique(design$variables[, by, drop = FALSE])
  combos <- combos[do.call(order, unname(as.list(combos))), , drop = FALSE]
  combos <- combos[complete.cases(combos), , drop = FALSE]
  lapply(seq_len(nrow(combos)), function(i) {
    vals <- sapply(by, function(b) as.character(combos[i, b]))
    cond <- paste(sprintf("as.character(%s) == \"%s\"", by, vals), collapse = " & ")
    list(key = paste(vals, collapse = "|"), cond = cond)
  })
}

numeric_case <- function(case, dname, kind, variable, by = character(0)) {
  design <- get(dname)
  fun <- if (kind == "mean") "svymean" else "svytotal"
  for (dom in domains_of(design, by)) {
    sub <- sprintf("subset(%s, %s & !is.na(%s))", dname, dom$cond, variable)
    call <- sprintf("%s(~%s, %s, deff = \"replace\")", fun, variable, sub)
    m <- run(call)
    df <- run(sprintf("degf(%s)", sub))
    ci <- confint(m, df = df)
    b <- paste(by, collapse = "|")
    put(case, dname, kind, variable, b, "", "t", dom$key, "estimate", coef(m), call)
    put(case, dname, kind, variable, b, "", "t", dom$key, "se", SE(m), call)
    put(case, dname, kind, variable, b, "", "t", dom$key, "deff", deff(m), call)
    put(case, dname, kind, variable, b, "", "t", dom$key, "df", df, sprintf("degf(%s)", sub))
    put(case, dname, kind, variable, b, "", "t", dom$key, "ci_low", ci[1],
        sprintf("confint(%s, df = degf(sub))", call))
    put(case, dname, kind, variable, b, "", "t", dom$key, "ci_high", ci[2],
        sprintf("confint(%s, df = degf(sub))", call))
    put(case, dname, kind, variable, b, "", "t", dom$key, "n", run(sprintf("nrow(%s)", sub)),
        sprintf("nrow(%s)", sub))
  }
}

proportion_case <- function(case, dname, variable, indicator, value, by = character(0),
                            methods = c("logit", "beta")) {
  design <- get(dname)
  b <- paste(by, collapse = "|")
  for (dom in domains_of(design, by)) {
    sub <- sprintf("subset(%s, %s & !is.na(%s))", dname, dom$cond, variable)
    call <- sprintf("svymean(~%s, %s, deff = \"replace\")", indicator, sub)
    m <- run(call)
    for (q in c("estimate", "se", "deff"))
      put(case, dname, "proportion", variable, b, value, "", dom$key, q,
          switch(q, estimate = coef(m), se = SE(m), deff = deff(m)), call)
    put(case, dname, "proportion", variable, b, value, "", dom$key, "df",
        run(sprintf("degf(%s)", sub)), sprintf("degf(%s)", sub))
    for (meth in methods) {
      ccall <- sprintf("svyciprop(~%s, %s, method = \"%s\")", indicator, sub, meth)
      ci <- confint(run(ccall))
      put(case, dname, "proportion", variable, b, value, meth, dom$key, "ci_low", ci[1], ccall)
      put(case, dname, "proportion", variable, b, value, meth, dom$key, "ci_high", ci[2], ccall)
    }
  }
}

distribution_case <- function(case, dname, variable, by = character(0)) {
  design <- get(dname)
  b <- paste(by, collapse = "|")
  for (dom in domains_of(design, by)) {
    sub <- sprintf("subset(%s, %s & !is.na(%s))", dname, dom$cond, variable)
    call <- sprintf("svymean(~factor(%s), %s, deff = \"replace\")", variable, sub)
    m <- run(call)
    levels <- sub(sprintf("factor(%s)", variable), "", names(coef(m)), fixed = TRUE)
    for (i in seq_along(levels)) {
      key <- if (dom$key == "") levels[i] else paste(dom$key, levels[i], sep = "|")
      put(case, dname, "distribution", variable, b, "", "", key, "estimate", coef(m)[i], call)
      put(case, dname, "distribution", variable, b, "", "", key, "se", SE(m)[i], call)
      put(case, dname, "distribution", variable, b, "", "", key, "deff", deff(m)[i], call)
    }
  }
}

contrast_case <- function(case, dname, variable, by, coefs) {
  call <- sprintf("svycontrast(svyby(~%s, ~%s, subset(%s, !is.na(%s)), svymean, covmat = TRUE), c(%s))",
                  variable, by, dname, variable, paste(coefs, collapse = ", "))
  con <- run(call)
  df <- run(sprintf("degf(subset(%s, !is.na(%s)))", dname, variable))
  t <- coef(con) / SE(con)
  key <- paste(coefs, collapse = " ")
  put(case, dname, "contrast", variable, by, "", "", key, "estimate", coef(con), call)
  put(case, dname, "contrast", variable, by, "", "", key, "se", SE(con), call)
  put(case, dname, "contrast", variable, by, "", "", key, "df", df,
      sprintf("degf(subset(%s, !is.na(%s)))", dname, variable))
  put(case, dname, "contrast", variable, by, "", "", key, "p_value", 2 * pt(-abs(t), df),
      "2 * pt(-abs(coef(con) / SE(con)), df)")
}

chisq_case <- function(case, dname, a, b, statistic) {
  call <- sprintf("svychisq(~%s + %s, %s, statistic = \"%s\")", a, b, dname, statistic)
  r <- run(call)
  put(case, dname, "chisq", a, b, "", statistic, "", "statistic", r$statistic, call)
  put(case, dname, "chisq", a, b, "", statistic, "", "ndf", r$parameter[1], call)
  if (statistic == "F") put(case, dname, "chisq", a, b, "", statistic, "", "ddf", r$parameter[2], call)
  put(case, dname, "chisq", a, b, "", statistic, "", "p_value", r$p.value, call)
}

# ---- cases ---------------------------------------------------------------
for (dname in c("strat", "clus1", "clus2")) {
  numeric_case(paste0(dname, "_mean"), dname, "mean", "api00")
  numeric_case(paste0(dname, "_mean_by"), dname, "mean", "api00", "stype")
  numeric_case(paste0(dname, "_total_by"), dname, "total", "enroll", "stype")
  proportion_case(paste0(dname, "_prop_by"), dname, "sch.wide", "sw_yes", "Yes", "stype")
  distribution_case(paste0(dname, "_dist_by"), dname, "stype", "awards")
  chisq_case(paste0(dname, "_chisq_F"), dname, "sch.wide", "stype", "F")
  chisq_case(paste0(dname, "_chisq_Chisq"), dname, "sch.wide", "stype", "Chisq")
}
numeric_case("strat_mean_na", "strat", "mean", "acs.k3", "awards")          # na.rm
numeric_case("strat_mean_by2", "strat", "mean", "api00", c("stype", "awards"))  # crossed with strata
proportion_case("strat_prop_by2", "strat", "sch.wide", "sw_yes", "Yes", c("stype", "awards"))
numeric_case("clus2_total_na", "clus2", "total", "enroll")
contrast_case("strat_contrast", "strat", "api00", "stype", c(1, -1, 0))
contrast_case("clus1_contrast", "clus1", "api00", "stype", c(1, 0, -1))

numeric_case("nh_mean_by", "nh", "mean", "HI_CHOL", "race")
proportion_case("nh_prop_by2", "nh", "HI_CHOL", "chol_yes", "1", c("race", "agecat"))
proportion_case("nh_prop", "nh", "HI_CHOL", "chol_yes", "1")
distribution_case("nh_dist_by", "nh", "agecat", "RIAGENDR")
chisq_case("nh_chisq_F", "nh", "HI_CHOL", "race", "F")
chisq_case("nh_chisq_Chisq", "nh", "HI_CHOL", "race", "Chisq")
contrast_case("nh_contrast", "nh", "HI_CHOL", "race", c(0, 1, -1, 0))

for (option in c("adjust", "average", "certainty", "remove")) {
  options(survey.lonely.psu = option)
  numeric_case(paste0("lonely_", option, "_mean_by"), "lonely_d", "mean", "api00", "stype")
  proportion_case(paste0("lonely_", option, "_prop"), "lonely_d", "sch.wide", "sw_yes", "Yes")
}
options(survey.lonely.psu = "fail")
lonely_ok <- subset(lonely_d, lstr != 1)   # a domain that holds no row of the lonely stratum
numeric_case("lonely_fail_domain", "lonely_ok", "mean", "api00")

for (nm in names(reps)) {
  dname <- paste0("rep_", nm)
  if (rep_source[[nm]] == "nhanes2") {
    numeric_case(paste0(dname, "_mean_by"), dname, "mean", "HI_CHOL", "race")
    numeric_case(paste0(dname, "_total"), dname, "total", "HI_CHOL")
    proportion_case(paste0(dname, "_prop_by"), dname, "HI_CHOL", "chol_yes", "1", "agecat")
    distribution_case(paste0(dname, "_dist"), dname, "race")
    chisq_case(paste0(dname, "_chisq_F"), dname, "HI_CHOL", "race", "F")
  } else {
    numeric_case(paste0(dname, "_mean_by"), dname, "mean", "api00", "stype")
    numeric_case(paste0(dname, "_total"), dname, "total", "enroll")
    proportion_case(paste0(dname, "_prop_by"), dname, "sch.wide", "sw_yes", "Yes", "stype")
    distribution_case(paste0(dname, "_dist"), dname, "awards")
    chisq_case(paste0(dname, "_chisq_F"), dname, "sch.wide", "stype", "F")
  }
  contrast_case(paste0(dname, "_contrast"), dname,
                if (rep_source[[nm]] == "nhanes2") "HI_CHOL" else "api00",
                if (rep_source[[nm]] == "nhanes2") "race" else "stype",
                if (rep_source[[nm]] == "nhanes2") c(1, -1, 0, 0) else c(1, -1, 0))
}

# wave change on two independent samples stacked as one design (waves as strata)
numeric_case("stack_mean_by_wave", "stack_d", "mean", "api00", "wave")
contrast_case("stack_change", "stack_d", "api00", "wave", c(-1, 1))

out <- do.call(rbind, rows)
write.csv(out, file.path(here, "reference.csv"), row.names = FALSE)
cat("wrote", nrow(out), "reference values\n")
