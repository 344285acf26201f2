# Reference values for the example tracker (tests/test_weighting_reference.py and
# tests/test_regression_reference.py): rake() of wave 2024 to the five margins of
# tracker_targets.toml, svymean/svytotal after raking, and svyglm(quasibinomial).
# Inputs: tracker2024_slice.csv and tracker_targets.toml (make_tracker_slice.py).
# Run from this folder:  Rscript tracker_rake.R
# Writes tracker_rake_weights.csv, tracker_rake_estimates.csv and
# ../regression/tracker_svyglm.csv (17 significant digits).
suppressPackageStartupMessages(library(survey))
versions <- sprintf("# %s; survey %s", R.version.string, packageVersion("survey"))
fmt <- function(x) sprintf("%.17g", x)
d <- read.csv("tracker2024_slice.csv")

# A minimal reader for the targets file: [margins.NAME] + variables = [...] + "code(:code)" = total.
lines <- readLines("tracker_targets.toml")
margins <- list()
for (line in lines) {
  if (grepl("^variables = ", line)) {
    vars <- regmatches(line, gregexpr('"[^"]+"', line))[[1]]
    margins[[length(margins) + 1]] <- list(vars = gsub('"', "", vars), cells = character(), totals = numeric())
  } else if (grepl('^"[0-9:]+" = ', line)) {
    k <- length(margins)
    margins[[k]]$cells <- c(margins[[k]]$cells, sub('^"([0-9:]+)".*', "\\1", line))
    margins[[k]]$totals <- c(margins[[k]]$totals, as.numeric(sub('^"[0-9:]+" = ([0-9]+).*', "\\1", line)))
  }
}
sample_margins <- lapply(margins, function(m) as.formula(paste("~", paste(m$vars, collapse = " + "))))
population_margins <- lapply(margins, function(m) {
  codes <- do.call(rbind, strsplit(m$cells, ":"))
  pop <- as.data.frame(matrix(as.integer(codes), ncol = length(m$vars)))
  names(pop) <- m$vars
  pop$Freq <- m$totals
  pop
})

unraked <- svydesign(ids = ~1, weights = ~design_weight, data = d)
raked <- rake(unraked, sample_margins, population_margins, control = list(maxit = 1000, epsilon = 1e-13))
rake_call <- "rake(svydesign(ids = ~1, weights = ~design_weight, data = d), <5 margins of tracker_targets.toml>, control = list(maxit = 1000, epsilon = 1e-13))"

writeLines(versions, "tracker_rake_weights.csv")
suppressWarnings(write.table(data.frame(row = seq_len(nrow(d)), value = fmt(weights(raked))),
                             "tracker_rake_weights.csv", sep = ",", row.names = FALSE, append = TRUE))

m <- svymean(~age + I(ai_use_month == 1), raked)
t <- svytotal(~I(ai_use_month == 1), raked)
n <- svymean(~I(trust_nhs >= 7), subset(raked, trust_nhs != 98))
est <- data.frame(statistic = c("mean", "proportion", "total", "proportion"),
                  variable = c("age", "ai_use_month=1", "ai_use_month=1", "trust_nhs>=7 (98 out)"),
                  estimate = fmt(c(coef(m)[1], coef(m)[3], coef(t)[2], coef(n)[2])),
                  se = fmt(c(SE(m)[1], SE(m)[3], SE(t)[2], SE(n)[2])),
                  r_call = paste("svymean(~age + I(ai_use_month == 1)), svytotal(~I(ai_use_month == 1)),",
                                 "svymean(~I(trust_nhs >= 7), subset(raked, trust_nhs != 98)) on raked =", rake_call))
writeLines(versions, "tracker_rake_estimates.csv")
suppressWarnings(write.table(est, "tracker_rake_estimates.csv", sep = ",", row.names = FALSE, append = TRUE))

# Drivers of trust: trust in the NHS high (7-10) by age band and digital familiarity;
# 98 ("Don't know") is missing. Refitted from the converged coefficients (see
# ../regression/svyglm_reference.R for why).
d$trust_nhs_na <- ifelse(d$trust_nhs == 98, NA, d$trust_nhs)
final <- svydesign(ids = ~1, weights = ~weight, data = d)
raked <- update(raked, trust_nhs_na = ifelse(trust_nhs == 98, NA, trust_nhs))
f <- I(trust_nhs_na >= 7) ~ factor(age_band) + factor(digital_familiarity)
tight <- glm.control(epsilon = 1e-14, maxit = 100)
out <- list()
for (case in c("tracker_weight", "tracker_raked")) {
  design <- if (case == "tracker_raked") raked else final
  b0 <- coef(svyglm(f, design, family = quasibinomial(), control = tight))
  fit <- svyglm(f, design, family = quasibinomial(), control = tight, start = b0)
  or <- exp(confint(fit, ddf = fit$df.residual))
  out[[case]] <- data.frame(case = case, term = names(coef(fit)), estimate = fmt(coef(fit)),
                            se = fmt(SE(fit)), p_value = fmt(summary(fit)$coefficients[, 4]),
                            df_resid = fit$df.residual, or_low = fmt(or[, 1]), or_high = fmt(or[, 2]),
                            r_call = paste("svyglm(I(trust_nhs >= 7) ~ factor(age_band) + factor(digital_familiarity),",
                                           if (case == "tracker_raked") rake_call else "svydesign(ids = ~1, weights = ~weight, data = d)",
                                           "family = quasibinomial(), control = tight, start = b0) [trust_nhs 98 -> NA]"))
}
writeLines(versions, "../regression/tracker_svyglm.csv")
suppressWarnings(write.table(do.call(rbind, out), "../regression/tracker_svyglm.csv", sep = ",",
                             row.names = FALSE, append = TRUE))
