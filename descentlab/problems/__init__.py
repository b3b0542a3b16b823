"""What is minimized: objectives with gradients, prox, constants and reference optima."""

from .base import Problem
from .diagonal import DiagonalNetwork
from .factory import PROBLEM_PARAMS, build, problem_names
from .linear import LeastSquares, LinearModel, Logistic
from .regularizers import Regularizer
from .toy import (
    CosineWells,
    DiagonalQuadratic,
    PLExample,
    Quadratic,
    RobustRegression,
    ScalarNetwork,
)
from .twolayer import TwoLayerProblem

__all__ = ["PROBLEM_PARAMS", "CosineWells", "DiagonalNetwork", "DiagonalQuadratic",
           "LeastSquares", "LinearModel", "Logistic", "PLExample", "Problem", "Quadratic",
           "Regularizer", "RobustRegression", "ScalarNetwork", "TwoLayerProblem", "build",
           "problem_names"]
