# Reference values for tests/test_safety_followup.py (Kaplan-Meier cumulative incidence).
# Run: Rscript tests/reference/safety.R   (R 4.2.2, survival 3.5.3; output pasted below)
library(survival)
options(digits = 15)
km <- function(time, status, at) {
  f <- survfit(Surv(time, status) ~ 1, conf.type = "log-log")
  s <- summary(f, times = at, extend = TRUE)
  cat(sprintf("t=%g n.risk=%d cum=%.15g low=%.15g high=%.15g\n", at, s$n.risk, 1 - s$surv,
              1 - s$upper, 1 - s$lower))
}
# tiny example (stats.km_cumulative_incidence docstring)
km(c(2, 3, 3, 5, 8), c(1, 1, 0, 1, 0), 4)
km(c(2, 3, 3, 5, 8), c(1, 1, 0, 1, 0), 6)
# the hand-built clinic of the test: pain (patients A..G: days to first pain or last contact)
km(c(0, 100, 200, 60, 190, 30, 182), c(1, 1, 0, 0, 0, 1, 0), 182)
# frontal edema
km(c(90, 270, 200, 10, 190, 180, 182), c(0, 0, 0, 1, 0, 0, 0), 182)
# non-integer times with ties and censoring at event times
km(c(0.5, 1.5, 1.5, 2.25, 2.25, 3, 4.75, 5, 5, 6.5), c(1, 1, 0, 1, 1, 0, 1, 0, 1, 0), 5)
cat("survival", as.character(packageVersion("survival")), "\n")

# ---- output (R 4.2.2 Patched, survival 3.5.3) ----
# t=4 n.risk=2 cum=0.4 low=0.118243592606468 high=0.874269817005569
# t=6 n.risk=1 cum=0.7 low=0.280781979189585 high=0.987698470574584
# t=182 n.risk=3 cum=0.464285714285714 low=0.175002957960286 high=0.868011823037361
# t=182 n.risk=4 cum=0.142857142857143 low=0.0214389414738245 high=0.665946120707778
# t=5 n.risk=3 cum=0.714285714285714 low=0.398598097127081 high=0.954334466636204
# survival 3.5.3 
