# Reference values for tests/test_dont_know_include.py: indicators with
# dont_know = "include" on an item that also has skip, refusal and system codes.
# Run from the repository root (R >= 4.2 with survey):
#   Rscript tests/reference/dont_know/dont_know.R
# Writes, next to this script, data.csv (the fixture: a stratified two-stage
# sample, set.seed below) and reference.csv. q1 codes: 1-4 answers (1-2 agree,
# 3-4 disagree), 9 "Don't know", 8 "Refused", -1 "Not asked", -8 unlabelled.
# "include" keeps answers and Don't know in the base (q1 %in% c(1:4, 9));
# "exclude" keeps the answers only. Every row carries the R call (`call`),
# R.version.string (`r_version`) and the survey package version. Values have
# 17 significant digits.
suppressPackageStartupMessages(library(survey))
here <- "tests/reference/dont_know"
fmt <- function(x) sprintf("%.17g", x)

set.seed(20261201)
n <- 480
stratum <- rep(1:4, each = 120)
psu <- stratum * 10 + rep(rep(1:6, each = 20), 4)
weight <- round(runif(n, 0.4, 2.6), 4)
sex <- sample(1:2, n, replace = TRUE)
q1 <- sample(c(1, 2, 3, 4, 9, 8, -1, -8), n, replace = TRUE,
             prob = c(0.2, 0.2, 0.15, 0.1, 0.12, 0.05, 0.13, 0.05))
d <- data.frame(id = seq_len(n), stratum = stratum, psu = psu, weight = weight, sex = sex,
                q1 = q1)
write.csv(d, file.path(here, "data.csv"), row.names = FALSE)

d <- read.csv(file.path(here, "data.csv"))
d$agree <- as.numeric(d$q1 %in% 1:2)
d$net <- ifelse(d$q1 %in% 1:2, 1, ifelse(d$q1 %in% 3:4, -1, 0))
des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d)
bases <- list(include = quote(q1 %in% c(1:4, 9)), exclude = quote(q1 %in% 1:4))
LOAD <- paste("d <- read.csv('tests/reference/dont_know/data.csv');",
              "d$agree <- as.numeric(d$q1 %in% 1:2);",
              "d$net <- ifelse(d$q1 %in% 1:2, 1, ifelse(d$q1 %in% 3:4, -1, 0));",
              "des <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = d)")
rows <- NULL
for (dont_know in names(bases)) {
  base <- eval(bquote(subset(des, .(bases[[dont_know]]))))
  for (variable in c("agree", "net")) {
    for (group in c("all", "1", "2")) {
      domain <- if (group == "all") base else subset(base, sex == as.numeric(group))
      m <- svymean(as.formula(paste0("~", variable)), domain)
      call <- paste0(LOAD, "; base <- subset(des, ", deparse(bases[[dont_know]]), "); ",
                     "svymean(~", variable, ", ",
                     if (group == "all") "base" else paste0("subset(base, sex == ", group, ")"),
                     "); degf(<the same design>)")
      rows <- rbind(rows, data.frame(
        dont_know = dont_know, variable = variable, group = group,
        estimate = fmt(unname(coef(m))), se = fmt(unname(as.numeric(SE(m)))),
        df = degf(domain), n = nrow(domain$variables), call = call,
        r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
        stringsAsFactors = FALSE))
    }
  }
}
write.csv(rows, file.path(here, "reference.csv"), row.names = FALSE)
