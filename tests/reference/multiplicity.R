# Reference values for tests/test_multiplicity.py (R 4.2.2, Debian r-base-core).
# Run: Rscript tests/reference/multiplicity.R   (the tests do not need R; values are pasted there)
options(digits = 15)
m <- function(k,n) suppressWarnings(chisq.test(cbind(k, n-k), correct=FALSE)$p.value)
# sample (data/sample, cut-off 2026-09-30), density improved, recorded levels only
p <- c(sex=m(c(15,66),c(28,90)),
       severity=m(c(10,5,0,9,41,12),c(14,10,4,10,56,19)),
       minoxidil=m(c(37,39),c(61,52)),
       age_band=m(c(13,28,24,14,2),c(23,34,36,21,4)),
       practitioner=m(c(20,25,16,7,13),c(28,33,25,16,16)))
cat(sprintf("%.15g", p), "\n"); cat(sprintf("%.15g", p.adjust(p, "holm")), "\n")
# photographic dramatic
p <- c(m(c(17,44),c(40,95)), m(c(10,4,3,6,30,6),c(19,14,7,9,61,20)), m(c(21,37),c(68,62)),
       m(c(11,20,13,15,2),c(25,40,39,27,4)), m(c(16,20,11,6,8),c(34,39,28,17,17)))
cat(sprintf("%.15g", p), "\n"); cat(sprintf("%.15g", p.adjust(p, "holm")), "\n")
# funnel: practitioners vs the clinic's 105/135
k <- c(26,33,21,10,15); n <- c(34,39,28,17,17)
b <- sapply(1:5, function(i) binom.test(k[i], n[i], 105/135)$p.value)
cat(sprintf("%.15g", b), "\n"); cat(sprintf("%.15g", p.adjust(b, "holm")), "\n")
# smallest differences detectable with 80% power (stats.detectable_difference), R pwr 1.3-0
library(pwr)
f <- function(n1, n2, p0) {
  h <- pwr.2p2n.test(n1 = n1, n2 = n2, sig.level = 0.05, power = 0.8)$h
  phi <- asin(sqrt(p0)); c(sin(phi - h / 2)^2 - p0, sin(phi + h / 2)^2 - p0)
}
for (a in list(c(931, 86, 0.8), c(68, 86, 69 / 86), c(68, 86, 33 / 86), c(20, 541, 0.45)))
  cat(sprintf("%.10f", f(a[1], a[2], a[3])), "\n")
