# Reference values for tests/test_waves.py::test_stacked_design_matches_r, from R's survey package.
#
# Regenerate (from the repository root):
#   Rscript tests/reference/waves/stacked.R
# Two "waves" with different designs, stacked as independent samples:
#   wave "strat": apistrat, strata stype, every school its own PSU, fpc = schools in the stratum
#   wave "clus":  apiclus1, one-stage cluster sample of districts (dnum), fpc = 757 districts
# The stacked design has strata wave x stratum (one stratum for the unstratified wave) and
# PSUs wave x PSU, as Tracker.stacked() builds it. Writes inputs.csv and reference.csv
# (value, R call, R.version.string, packageVersion("survey")); 17 significant digits.
suppressMessages(library(survey))
options(digits = 17, survey.lonely.psu = "fail")
here <- "tests/reference/waves"
data(api)
strat <- data.frame(wave = "strat", stype = as.character(apistrat$stype), dnum = NA,
                    fpc = apistrat$fpc, pw = apistrat$pw, api00 = apistrat$api00,
                    both = as.integer(apistrat$both == "Yes"))
clus <- data.frame(wave = "clus", stype = NA, dnum = apiclus1$dnum, fpc = apiclus1$fpc,
                   pw = apiclus1$pw, api00 = apiclus1$api00,
                   both = as.integer(apiclus1$both == "Yes"))
inputs <- rbind(strat, clus)
write.csv(inputs, file.path(here, "inputs.csv"), row.names = FALSE, na = "")

stacked <- inputs
stacked$stratum <- ifelse(stacked$wave == "strat", paste0("strat:", stacked$stype), "clus")
stacked$psu <- ifelse(stacked$wave == "strat", paste0("strat:row", seq_len(nrow(stacked))),
                      paste0("clus:", stacked$dnum))
design <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~pw, data = stacked)

RV <- R.version.string
SV <- as.character(packageVersion("survey"))
rows <- list()
put <- function(quantity, by, x, call) {
  rows[[length(rows) + 1]] <<- data.frame(quantity = quantity, by = by,
    r_value = format(unname(x), digits = 17), call = call, r_version = RV, survey_version = SV)
}
m <- svymean(~api00, design)
put("mean", "", coef(m), "svymean(~api00, design)")
put("se", "", SE(m), "SE(svymean(~api00, design))")
p <- svymean(~both, design)
put("mean_both", "", coef(p), "svymean(~both, design)")
put("se_both", "", SE(p), "SE(svymean(~both, design))")
put("df", "", degf(design), "degf(design)")
b <- svyby(~api00, ~wave, design, svymean)
for (w in rownames(b)) {
  put("mean", w, coef(b)[w], "svyby(~api00, ~wave, design, svymean)")
  put("se", w, SE(b)[match(w, rownames(b))], "SE(svyby(~api00, ~wave, design, svymean))")
}
write.csv(do.call(rbind, rows), file.path(here, "reference.csv"), row.names = FALSE)
