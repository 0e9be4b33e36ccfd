"""atlas-quiz: learn the mathematics of deep learning as working PyTorch, with spaced repetition."""

__version__ = "0.1.0"
__all__ = ["__version__"]
