"""Training: the loop (one process or DDP), the GAN objective, the losses, the run folder."""
from .loop import Trainer, TrainingDiverged, TrainingInterrupted, TrainResult, load_or_train, train

__all__ = ["Trainer", "TrainingDiverged", "TrainingInterrupted", "TrainResult", "load_or_train", "train"]
