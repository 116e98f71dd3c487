"""Credit scoring service: the promoted credit model, or the rule-based scorecard without one."""
