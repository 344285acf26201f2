# The raked design of the example tracker's wave 2024, shared by tracker_rake.R
# (this folder) and ../regression/tracker_svyglm.R. Source it from this folder
# (source("tracker_raked.R") or source(".../tracker_raked.R", chdir = TRUE)).
# Defines: versions (the "# R ...; survey ..." header line), fmt (17 significant
# digits), d (tracker2024_slice.csv), unraked, raked and rake_call.
# Inputs: tracker2024_slice.csv and tracker_targets.toml (make_tracker_slice.py).
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
