# Reference values for tests/test_regression_reference.py on the example tracker:
# drivers of trust, svyglm(quasibinomial) of trust in the NHS high (7-10) by age band
# and digital familiarity, on wave 2024 with its weights (tracker_weight) and raked
# to the five margins of ../weighting/tracker_targets.toml (tracker_raked).
# 98 ("Don't know") is missing. Fitted with glm.control(epsilon = 1e-14) and
# refitted from the converged coefficients (see svyglm_reference.R for why).
# Inputs: ../weighting/tracker2024_slice.csv and tracker_targets.toml, raked by
# ../weighting/tracker_raked.R (shared with ../weighting/tracker_rake.R).
# Run from this folder:  Rscript tracker_svyglm.R
# Writes tracker_svyglm.csv (17 significant digits; the first line holds
# R.version.string and the survey version, r_call the call of every row).
source("../weighting/tracker_raked.R", chdir = TRUE)  # d, raked, rake_call, versions, fmt

final <- svydesign(ids = ~1, weights = ~weight, data = d)
raked <- update(raked, trust_nhs_na = ifelse(trust_nhs == 98, NA, trust_nhs))
final <- update(final, trust_nhs_na = ifelse(trust_nhs == 98, NA, trust_nhs))
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
writeLines(versions, "tracker_svyglm.csv")
suppressWarnings(write.table(do.call(rbind, out), "tracker_svyglm.csv", sep = ",",
                             row.names = FALSE, append = TRUE))
