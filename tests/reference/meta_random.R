# Randomised reference set for tests/test_meta.py (issue 11 item 1): 200 sets of 2-10 studies,
# metafor's random-effects meta-analysis of a proportion on the logit scale, by Paule-Mandel
# and DerSimonian-Laird. R 4.2.2, metafor 3.8-1 (Debian r-cran-metafor).
# Run from the repository root: Rscript tests/reference/meta_random.R
# Writes tests/reference/meta_random.csv (one row per set and method).
library(metafor)
set.seed(20261130)
rows <- list()
for (s in 1:200) {
  k <- sample(2:10, 1)
  ni <- sample(c(1:20, 20:200), k, replace = TRUE)
  mu <- rnorm(1, 0, 1.2)
  tau <- sample(c(0, 0, 0.2, 0.5, 1, 1.5), 1)   # a third of the sets homogeneous
  xi <- rbinom(k, ni, plogis(rnorm(k, mu, tau)))
  for (method in c("PM", "DL")) {
    # escalc(measure = "PLO") adds 1/2 where xi = 0 or xi = ni (add = 1/2, to = "only0")
    r <- tryCatch(rma(measure = "PLO", xi = xi, ni = ni, method = method,
                      control = list(tol = 1e-12, maxiter = 1000)),
                  error = function(e) NULL)   # PM stops when tau2 > tau2.max (100)
    if (is.null(r)) next
    p <- predict(r, transf = transf.ilogit)
    rows[[length(rows) + 1]] <- data.frame(
      set = s, method = method, xi = paste(xi, collapse = ";"), ni = paste(ni, collapse = ";"),
      b = sprintf("%.15g", r$b[1]), se = sprintf("%.15g", r$se), tau2 = sprintf("%.15g", r$tau2),
      I2 = sprintf("%.15g", r$I2), QE = sprintf("%.15g", r$QE),
      ci_lb = sprintf("%.15g", p$ci.lb), ci_ub = sprintf("%.15g", p$ci.ub))
  }
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/meta_random.csv", row.names = FALSE, quote = TRUE)
cat(R.version.string, "metafor", as.character(packageVersion("metafor")), ":",
    nrow(out), "rows,", sum(out$method == "PM" & as.numeric(out$tau2) > 0), "PM with tau2 > 0\n")
