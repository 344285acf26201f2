# Reference values for tests/test_regression_reference.py: R's svyglm(family =
# quasibinomial()) on the api and nhanes data.
# Run from this folder:  Rscript svyglm_reference.R
# Writes nhanes.csv (input) and svyglm_reference.csv (17 significant digits).
# The api inputs are ../weighting/apiclus1.csv and apistrat.csv (written by
# ../weighting/rake_api.R from the same data(api)).
suppressPackageStartupMessages(library(survey))
data(api); data(nhanes)
versions <- sprintf("# %s; survey %s", R.version.string, packageVersion("survey"))
fmt <- function(x) sprintf("%.17g", x)
write.csv(transform(nhanes, agecat = as.character(agecat)), "nhanes.csv", row.names = FALSE)
tight <- glm.control(epsilon = 1e-14, maxit = 100)  # converged far beyond R's default 1e-8
# glm's cov.unscaled (hence svyglm's SEs) uses the working weights of the last-but-one
# IRLS iterate. Refitting from the converged coefficients (start = coef(m)) makes that
# iterate the fixed point, so the stored SEs are the converged sandwich (else ~1e-8 off).
refit <- function(call) {
  converged <<- coef(eval(parse(text = call)))
  eval(parse(text = sub(")$", ", start = converged)", call)))
}

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dnhanes <- svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = nhanes)
raked <- rake(dclus1, list(~stype, ~sch.wide),
              list(data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018)),
                   data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))),
              control = list(maxit = 1000, epsilon = 1e-14))
api_f <- I(sch.wide == "Yes") ~ ell + meals + stype
calls <- list(
  strat_api = "svyglm(I(sch.wide == 'Yes') ~ ell + meals + stype, dstrat, family = quasibinomial(), control = tight)",
  clus1_api = "svyglm(I(sch.wide == 'Yes') ~ ell + meals + stype, dclus1, family = quasibinomial(), control = tight)",
  clus1_api_subset = "svyglm(I(sch.wide == 'Yes') ~ ell + meals, subset(dclus1, stype != 'H'), family = quasibinomial(), control = tight)",
  raked_api = "svyglm(I(sch.wide == 'Yes') ~ ell + meals + stype, raked, family = quasibinomial(), control = tight)",
  jk1_api = "svyglm(I(sch.wide == 'Yes') ~ ell + meals + stype, as.svrepdesign(dclus1, type = 'JK1'), family = quasibinomial(), control = tight)",
  nhanes = "svyglm(HI_CHOL ~ factor(race) + agecat + RIAGENDR, dnhanes, family = quasibinomial(), control = tight)"
)
out <- list()
for (case in names(calls)) {
  m <- refit(calls[[case]])
  b <- coef(m); se <- SE(m)
  or <- exp(confint(m, ddf = m$df.residual))  # t(df) intervals; confint's default ddf is Inf
  out[[case]] <- data.frame(case = case, term = names(b), estimate = fmt(b), se = fmt(se),
                            p_value = fmt(summary(m)$coefficients[, 4]), df_resid = m$df.residual,
                            or_low = fmt(or[, 1]), or_high = fmt(or[, 2]),
                            r_call = paste0(calls[[case]], " refitted with start = coef(m); exp(confint(m, ddf = m$df.residual))"))
}
writeLines(versions, "svyglm_reference.csv")
suppressWarnings(write.table(do.call(rbind, out), "svyglm_reference.csv", sep = ",",
                             row.names = FALSE, append = TRUE))
