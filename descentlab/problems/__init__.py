"""What is minimized: objectives with gradients, prox, constants and reference optima."""

from .base import Problem
from .diagonal import DiagonalNetwork
from .linear import LeastSquares, LinearModel, Logistic
from .regularizers import Regularizer
from .toy import PLExample, Quadratic, ScalarNetwork
from .twolayer import TwoLayerProblem

__all__ = ["DiagonalNetwork", "LeastSquares", "LinearModel", "Logistic", "PLExample", "Problem",
           "Quadratic", "Regularizer", "ScalarNetwork", "TwoLayerProblem"]
