# Reference values for the example tracker (tests/test_weighting_reference.py):
# rake() of wave 2024 to the five margins of tracker_targets.toml (tracker_raked.R)
# and svymean/svytotal after raking. The logistic regressions on the same design
# are ../regression/tracker_svyglm.R.
# Inputs: tracker2024_slice.csv and tracker_targets.toml (make_tracker_slice.py).
# Run from this folder:  Rscript tracker_rake.R
# Writes tracker_rake_weights.csv and tracker_rake_estimates.csv (17 significant
# digits; the first line holds R.version.string and the survey version, the
# weights file's second line the call).
source("tracker_raked.R")  # d, raked, rake_call, versions, fmt

writeLines(c(versions, paste("# call: weights(raked), raked =", rake_call)), "tracker_rake_weights.csv")
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
