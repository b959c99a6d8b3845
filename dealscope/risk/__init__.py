"""The churn-risk model: point-in-time features, training, scoring, reasons and safe persistence."""
