# Reference for surveytools.indicators.significance.adjust_p: R's p.adjust.
# Run from the repository root:
#   Rscript tests/reference/indicators/p_adjust.R
# Writes tests/reference/indicators/p_adjust.csv: the p-values, their
# adjustments (17 significant digits), the R call and R.version.string
# (p.adjust is in R's stats package, whose version is R's).
fmt <- function(x) ifelse(is.na(x), NA, sprintf("%.17g", x))
p <- c(0.0001, 0.004, 0.019, 0.0095, 0.2, 0.03, 0.03, 0.5, 0.74, 0.047, NA, 0.0008, 0.9999)
out <- data.frame(
  p = fmt(p),
  bh = fmt(p.adjust(p, method = "BH")),
  bonferroni = fmt(p.adjust(p, method = "bonferroni")),
  none = fmt(p.adjust(p, method = "none")),
  call = "p.adjust(p, method = m) for m in BH, bonferroni, none over the column p",
  r_version = R.version.string,
  stats_version = as.character(packageVersion("stats"))
)
write.csv(out, "tests/reference/indicators/p_adjust.csv", row.names = FALSE)
cat(R.version.string, "\n")
