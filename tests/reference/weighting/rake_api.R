# Reference values for tests/test_weighting_reference.py: R's survey::rake()
# on the api data, then svymean/svytotal SEs of the raked designs.
# Run from this folder:  Rscript rake_api.R
# Writes apiclus1.csv, apistrat.csv (inputs, '.' in names -> '_') and
# rake_api_weights.csv, rake_api_estimates.csv, rake_api_jk1_design.csv (17
# significant digits; the first line holds R.version.string and the survey
# version; the call is in r_call, or in the weights file's second line).
suppressPackageStartupMessages(library(survey))
data(api)
versions <- sprintf("# %s; survey %s", R.version.string, packageVersion("survey"))
fmt <- function(x) sprintf("%.17g", x)

clean <- function(d) { names(d) <- gsub(".", "_", names(d), fixed = TRUE); d }
write.csv(clean(apiclus1), "apiclus1.csv", row.names = FALSE)
write.csv(clean(apistrat), "apistrat.csv", row.names = FALSE)

# Convergence far tighter than R's default (epsilon = 1 weighted unit, maxit = 10),
# so that the stored weights are the raking fixed point.
tight <- list(maxit = 1000, epsilon = 1e-14)
pop_stype <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
pop_cross <- as.data.frame(table(stype = apipop$stype, sch.wide = apipop$sch.wide))
pop_compimp <- as.data.frame(table(comp.imp = apipop$comp.imp))

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
cases <- list(
  clus1_two = list(call = "rake(dclus1, list(~stype, ~sch.wide), list(pop_stype, pop_schwide), control = tight)",
                   design = rake(dclus1, list(~stype, ~sch.wide), list(pop_stype, pop_schwide), control = tight)),
  strat_two = list(call = "rake(dstrat, list(~stype, ~sch.wide), list(pop_stype, pop_schwide), control = tight)",
                   design = rake(dstrat, list(~stype, ~sch.wide), list(pop_stype, pop_schwide), control = tight)),
  clus1_crossed = list(call = "rake(dclus1, list(~stype + sch.wide, ~comp.imp), list(pop_cross, pop_compimp), control = tight)",
                       design = rake(dclus1, list(~stype + sch.wide, ~comp.imp), list(pop_cross, pop_compimp), control = tight)),
  clus1_jk1 = list(call = "rake(as.svrepdesign(dclus1, type = 'JK1'), list(~stype, ~sch.wide), list(pop_stype, pop_schwide), control = tight)",
                   design = rake(as.svrepdesign(dclus1, type = "JK1"), list(~stype, ~sch.wide), list(pop_stype, pop_schwide), control = tight))
)

weights_out <- list()
estimates_out <- list()
# The replicate design before raking: its weights and scales (for the Python side).
jk1 <- as.svrepdesign(dclus1, type = "JK1")
rw0 <- weights(jk1, "analysis")
for (j in seq_len(ncol(rw0)))
  weights_out[[paste("initial", j)]] <- data.frame(case = "clus1_jk1_initial", column = paste0("rep", j),
                                                  row = seq_len(nrow(rw0)), value = fmt(rw0[, j]))
writeLines(versions, "rake_api_jk1_design.csv")
suppressWarnings(write.table(data.frame(scale = fmt(jk1$scale), rscales = fmt(jk1$rscales), mse = jk1$mse,
                                        r_call = "as.svrepdesign(dclus1, type = 'JK1')"),
                             "rake_api_jk1_design.csv", sep = ",", row.names = FALSE, append = TRUE))
for (case in names(cases)) {
  d <- cases[[case]]$design
  w <- weights(d, "sampling")
  if (inherits(d, "svyrep.design")) w <- d$pweights
  weights_out[[case]] <- data.frame(case = case, column = "weight", row = seq_along(w), value = fmt(w))
  if (inherits(d, "svyrep.design")) {
    rw <- weights(d, "analysis")
    for (j in seq_len(ncol(rw)))
      weights_out[[paste(case, j)]] <- data.frame(case = case, column = paste0("rep", j),
                                                 row = seq_len(nrow(rw)), value = fmt(rw[, j]))
  }
  m <- svymean(~api00 + enroll, d)
  a <- svymean(~awards, d)
  t <- svytotal(~enroll, d)
  estimates_out[[case]] <- data.frame(
    case = case,
    statistic = c("mean", "mean", "proportion", "proportion", "total"),
    variable = c("api00", "enroll", "awards=No", "awards=Yes", "enroll"),
    estimate = fmt(c(coef(m), coef(a), coef(t))),
    se = fmt(c(SE(m), SE(a), SE(t))),
    r_call = sprintf("svymean(~api00 + enroll / ~awards), svytotal(~enroll) on %s", cases[[case]]$call))
}
writeLines(c(versions, paste(
  "# call: weights(d, 'sampling') (and weights(d, 'analysis') for replicates) of each case's design d",
  "as in rake_api_estimates.csv's r_call; case clus1_jk1_initial: weights(as.svrepdesign(dclus1, type = 'JK1'), 'analysis')")),
  "rake_api_weights.csv")
suppressWarnings(write.table(do.call(rbind, weights_out), "rake_api_weights.csv", sep = ",",
                             row.names = FALSE, append = TRUE, quote = TRUE))
writeLines(versions, "rake_api_estimates.csv")
suppressWarnings(write.table(do.call(rbind, estimates_out), "rake_api_estimates.csv", sep = ",",
                             row.names = FALSE, append = TRUE, quote = TRUE))
