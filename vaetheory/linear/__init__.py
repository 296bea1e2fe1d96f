"""pPCA and the linear VAE in closed form (numpy/scipy, float64). Imports neither torch nor matplotlib."""
