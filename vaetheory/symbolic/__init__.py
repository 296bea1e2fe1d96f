"""Symbolic (sympy) analysis of the 1-D Gaussian VAE. Imports neither torch nor matplotlib."""
