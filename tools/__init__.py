"""Developer tools that are not part of the product: pose-accuracy measurement and the noise-model fit."""
