# Reference for surveytools.significance.adjust_p: R's p.adjust.
# Run from the repository root:
#   Rscript tests/reference/indicators/p_adjust.R
# Writes tests/reference/indicators/p_adjust.csv (R 4.2.2, stats::p.adjust).
p <- c(0.0001, 0.004, 0.019, 0.0095, 0.2, 0.03, 0.03, 0.5, 0.74, 0.047, NA, 0.0008, 0.9999)
out <- data.frame(
  p = p,
  bh = p.adjust(p, method = "BH"),
  bonferroni = p.adjust(p, method = "bonferroni"),
  none = p.adjust(p, method = "none")
)
write.csv(out, "tests/reference/indicators/p_adjust.csv", row.names = FALSE)
cat(R.version.string, "\n")
