"""Credit risk model (信用风险模型): data, features, training, evaluation, compiled scorecards."""
