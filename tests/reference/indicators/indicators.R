# Reference values for tests/test_indicators_r.py: group differences, net
# scores and wave changes of the example tracker, from R's survey package.
# Run from the repository root (R >= 4.2 with survey and haven):
#   Rscript tests/reference/indicators/indicators.R
# Reads data/tracker/wave2023.sav and data/tracker/wave2024.csv; writes, next to
# this script, trust_nhs_digital_2024_pairs.csv, accept_facial_net_2024.csv and
# trust_nhs_change_2023_2024.csv. Values have 17 significant digits; every row
# carries the R call that produced it (`call`), R.version.string (`r_version`)
# and the survey and haven package versions.
suppressPackageStartupMessages({library(survey); library(haven)})
here <- "tests/reference/indicators"
fmt <- function(x) sprintf("%.17g", x)
provenance <- function(frame, call) {
  for (column in intersect(c("difference", "estimate", "change", "se", "p_value", "p_bh",
                             "p_bonferroni"), names(frame)))
    frame[[column]] <- fmt(frame[[column]])
  cbind(frame, call = call, r_version = R.version.string,
        survey_version = as.character(packageVersion("survey")),
        haven_version = as.character(packageVersion("haven")), stringsAsFactors = FALSE)
}
LOAD <- paste("w23 <- zap_labels(read_sav('data/tracker/wave2023.sav', user_na = TRUE));",
              "w24 <- read.csv('data/tracker/wave2024.csv'); trust_nhs 98 -> NA, accept_facial 8 -> NA;",
              "trust_high <- trust_nhs %in% 7:10; acc_plus <- accept_facial %in% 4:5;",
              "acc_minus <- accept_facial %in% 1:2 (NA where the answer is NA)")

read_wave <- function(path) {
  d <- if (grepl("\\.sav$", path)) zap_labels(read_sav(path, user_na = TRUE)) else read.csv(path)
  d <- as.data.frame(d)
  # user-missing codes of the tracker: 98 on 0-10 trust, 8 on the 1-5 / 1-4 scales
  d$trust_nhs[d$trust_nhs %in% 98] <- NA
  d$accept_facial[d$accept_facial %in% 8] <- NA
  d
}
w23 <- read_wave("data/tracker/wave2023.sav")
w24 <- read_wave("data/tracker/wave2024.csv")
for (d in c("w23", "w24")) {
  x <- get(d)
  x$trust_high <- as.numeric(x$trust_nhs %in% 7:10)
  x$trust_high[is.na(x$trust_nhs)] <- NA
  x$acc_plus <- as.numeric(x$accept_facial %in% 4:5)
  x$acc_minus <- as.numeric(x$accept_facial %in% 1:2)
  x$acc_plus[is.na(x$accept_facial)] <- NA
  x$acc_minus[is.na(x$accept_facial)] <- NA
  assign(d, x)
}

pairs_of <- function(by) {
  est <- coef(by)
  k <- length(est)
  out <- NULL
  for (i in 1:(k - 1)) for (j in (i + 1):k) {
    w <- rep(0, k); w[i] <- 1; w[j] <- -1
    con <- svycontrast(by, w)
    out <- rbind(out, data.frame(a = i, b = j, difference = unname(coef(con)), se = unname(as.numeric(SE(con)))))
  }
  out
}

## 1. trust_nhs 7-10 by digital familiarity, 2024: pairwise differences.
des24 <- svydesign(ids = ~1, weights = ~weight, data = w24)
base <- subset(des24, !is.na(trust_high))
by_dig <- svyby(~trust_high, ~digital_familiarity, base, svymean, covmat = TRUE)
pairs <- pairs_of(by_dig)
df <- degf(base)
pairs$df <- df
pairs$p_value <- 2 * pt(-abs(pairs$difference / pairs$se), df)
pairs$p_bh <- p.adjust(pairs$p_value, method = "BH")
pairs$p_bonferroni <- p.adjust(pairs$p_value, method = "bonferroni")
pairs <- provenance(pairs, paste(LOAD, "; base <- subset(svydesign(ids = ~1, weights = ~weight, data = w24), !is.na(trust_high));",
  "by <- svyby(~trust_high, ~digital_familiarity, base, svymean, covmat = TRUE); svycontrast(by, e_a - e_b);",
  "p_value = 2 * pt(-abs(t), degf(base)); p.adjust(p_value, method = 'BH'), p.adjust(p_value, method = 'bonferroni')"))
write.csv(pairs, file.path(here, "trust_nhs_digital_2024_pairs.csv"), row.names = FALSE)

## 2. net acceptability of live facial recognition by digital familiarity, 2024:
##    share 4-5 minus share 1-2, SE from the covariance of the two shares.
base_acc <- subset(des24, !is.na(acc_plus))
net <- NULL
for (g in 1:3) {
  m <- svymean(~acc_plus + acc_minus, subset(base_acc, digital_familiarity == g))
  con <- svycontrast(m, c(acc_plus = 1, acc_minus = -1))
  net <- rbind(net, data.frame(group = g, estimate = unname(coef(con)), se = as.numeric(SE(con))))
}
m <- svymean(~acc_plus + acc_minus, base_acc)
con <- svycontrast(m, c(acc_plus = 1, acc_minus = -1))
net <- rbind(data.frame(group = 0, estimate = unname(coef(con)), se = as.numeric(SE(con))), net)
net <- provenance(net, paste(LOAD, "; base_acc <- subset(svydesign(ids = ~1, weights = ~weight, data = w24), !is.na(acc_plus));",
  "svycontrast(svymean(~acc_plus + acc_minus, D), c(acc_plus = 1, acc_minus = -1)) with D = base_acc (group 0)",
  "or subset(base_acc, digital_familiarity == group)"))
write.csv(net, file.path(here, "accept_facial_net_2024.csv"), row.names = FALSE)

## 3. change in trust_nhs 7-10 from 2023 to 2024: the two waves stacked,
##    waves as strata (independent samples), svyby over wave (x group).
keep <- c("weight", "digital_familiarity", "trust_high")
stacked <- rbind(cbind(w23[keep], wave = 2023), cbind(w24[keep], wave = 2024))
sdes <- svydesign(ids = ~1, strata = ~wave, weights = ~weight, data = stacked)
sbase <- subset(sdes, !is.na(trust_high))
change <- NULL
tot <- svyby(~trust_high, ~wave, sbase, svymean, covmat = TRUE)
con <- svycontrast(tot, c(-1, 1))
d <- degf(sbase)
change <- rbind(change, data.frame(group = 0, change = unname(coef(con)), se = as.numeric(SE(con)), df = d))
for (g in 1:3) {
  dom <- subset(sbase, digital_familiarity == g)
  by <- svyby(~trust_high, ~wave, dom, svymean, covmat = TRUE)
  con <- svycontrast(by, c(-1, 1))
  d <- degf(dom)
  change <- rbind(change, data.frame(group = g, change = unname(coef(con)), se = as.numeric(SE(con)), df = d))
}
change$p_value <- 2 * pt(-abs(change$change / change$se), change$df)
change <- provenance(change, paste(LOAD, "; stacked <- rbind(w23, w24)[, c('weight', 'digital_familiarity', 'trust_high')] + wave;",
  "sbase <- subset(svydesign(ids = ~1, strata = ~wave, weights = ~weight, data = stacked), !is.na(trust_high));",
  "D = sbase (group 0) or subset(sbase, digital_familiarity == group); svycontrast(svyby(~trust_high, ~wave, D, svymean, covmat = TRUE), c(-1, 1));",
  "p_value = 2 * pt(-abs(t), degf(D))"))
write.csv(change, file.path(here, "trust_nhs_change_2023_2024.csv"), row.names = FALSE)
cat(R.version.string, "survey", as.character(packageVersion("survey")),
    "haven", as.character(packageVersion("haven")), "\n")
