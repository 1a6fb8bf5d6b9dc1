# lme4 reference fits for tests/test_model.py (issue 11, item 8).
# Data: tests/reference/model_data.csv, made by the seeded numpy generator quoted in
# tests/test_model.py: dataset "slope" (150 patients, 5 visits over 16 months, random
# intercept SD 15, random slope SD 4 per year, correlation 0.3, residual SD 4) and
# "noslope20".."noslope29" (60 patients, 3 visits over 12 months, no random slope, residual
# SD 10: some random-slope fits land on the boundary). Time is fitted in years, as
# outcomes.model does.
# Run from the project root: Rscript tests/reference/model.R   (R 4.2.2, lme4 1.1.31)
# -> tests/reference/model_lme4.csv (dataset, model, quantity, term, value)
suppressMessages(library(lme4))
all <- read.csv("tests/reference/model_data.csv")
all$years <- all$months / 12
out <- list()
add <- function(dataset, model, fit) {
  fe <- fixef(fit); se <- sqrt(diag(as.matrix(vcov(fit))))
  vc <- as.data.frame(VarCorr(fit))
  rows <- rbind(
    data.frame(quantity = "coef", term = names(fe), value = unname(fe)),
    data.frame(quantity = "std_err", term = names(se), value = unname(se)),
    data.frame(quantity = "vcov", term = paste(vc$grp, vc$var1, vc$var2, sep = ":"), value = vc$vcov),
    data.frame(quantity = "singular", term = "isSingular", value = as.numeric(isSingular(fit))),
    data.frame(quantity = "reml", term = "REMLcrit", value = REMLcrit(fit)))
  rows$dataset <- dataset; rows$model <- model
  out[[length(out) + 1]] <<- rows
}
for (dataset in unique(all$dataset)) {
  d <- all[all$dataset == dataset, ]
  slope <- suppressMessages(lmer(density ~ years + sites + sex + (1 + years | pid), data = d, REML = TRUE))
  add(dataset, "slope", slope)
  intercept <- lmer(density ~ years + sites + sex + (1 | pid), data = d, REML = TRUE)
  add(dataset, "intercept", intercept)
  cat(dataset, "isSingular:", isSingular(slope), " sd/cor:", signif(as.data.frame(VarCorr(slope))$sdcor, 5), "\n")
}
res <- do.call(rbind, out)[, c("dataset", "model", "quantity", "term", "value")]
write.csv(res, "tests/reference/model_lme4.csv", row.names = FALSE)

# ---- output (R 4.2.2 Patched, lme4 1.1.31) ----
# slope isSingular: FALSE  sd/cor: 15.92 3.8637 0.29034 4.1185 
# noslope20 isSingular: TRUE  sd/cor: 13.998 0.40201 1 9.1946 
# noslope21 isSingular: TRUE  sd/cor: 13.836 0.073083 1 9.5513 
# noslope22 isSingular: FALSE  sd/cor: 12.294 1.9226 0.21713 9.8782 
# noslope23 isSingular: FALSE  sd/cor: 16.176 2.4389 -0.25461 9.2955 
# noslope24 isSingular: TRUE  sd/cor: 13.638 0.77423 -1 9.5883 
# noslope25 isSingular: TRUE  sd/cor: 14.956 0.28708 -1 9.1237 
# noslope26 isSingular: FALSE  sd/cor: 15.309 4.2616 -0.42266 10.818 
# noslope27 isSingular: FALSE  sd/cor: 16.327 7.7312 -0.53528 9.7407 
# noslope28 isSingular: FALSE  sd/cor: 14.872 4.9374 0.13036 9.4445 
# noslope29 isSingular: FALSE  sd/cor: 15.017 5.4559 -0.35377 9.2329 
