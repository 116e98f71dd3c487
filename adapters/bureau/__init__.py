"""Enterprise credit reports (企业征信报告) from a credit bureau."""
