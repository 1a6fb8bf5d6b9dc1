# Reference values for tests/test_spc.py (exact binomial p-chart limits).
# Run: Rscript tests/reference/spc.R   (R 4.2.2; output pasted below)
options(digits = 15)
cat("pnorm(-3) =", pnorm(-3), " pnorm(-2) =", pnorm(-2), "\n")
cat("1 - pbinom(21, 50, 0.24) =", 1 - pbinom(21, 50, 0.24), "\n")
cat("1 - pbinom(22, 50, 0.24) =", 1 - pbinom(22, 50, 0.24), "\n")
cat("normal ucl 0.24, n 50 =", 0.24 + 3 * sqrt(0.24 * 0.76 / 50), "\n")
for (n in c(30, 37, 38)) cat("0.84^", n, " =", 0.84^n, "\n", sep = "")
for (n in c(47, 48)) cat("normal ucl 0.84, n ", n, " = ", 0.84 + 3 * sqrt(0.84 * 0.16 / n), "\n", sep = "")

# ---- output (R 4.2.2 Patched, 2022-11-10) ----
# pnorm(-3) = 0.00134989803163009  pnorm(-2) = 0.0227501319481792 
# 1 - pbinom(21, 50, 0.24) = 0.00149801976253117 
# 1 - pbinom(22, 50, 0.24) = 0.000552663818440768 
# normal ucl 0.24, n 50 = 0.421196026446498 
# 0.84^30 =0.00535030551368315
# 0.84^37 =0.00157882350822094
# 0.84^38 =0.00132621174690559
# normal ucl 0.84, n 47 = 1.00042496754797
# normal ucl 0.84, n 48 = 0.998745078663875
