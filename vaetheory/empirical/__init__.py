"""PyTorch experiments: Gaussian VAEs with every decoder-variance policy, blow-up, estimators."""
