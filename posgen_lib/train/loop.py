"""The training loop: SPADE's recipe in plain PyTorch, one process or many (torchrun + DDP).

Per step (the run's objective comes from :mod:`posgen_lib.train.objectives`, by the generator kind;
SPADE's, :mod:`posgen_lib.train.objective`, is shown)::

    batch  -> sem = to_semantics(label, instance), real = image
    G step: fake = G(sem[, z]); L_G = hinge + feature matching (+ VGG, KL, L1); Adam(G[, E])
    D step: L_D = hinge(D(real), D(fake.detach())); Adam(D)
    [EMA of G]; log; sample grid; checkpoint

The objective also gives the training data, the discriminator and the
generator's initialisation; the loop itself never asks which kind it trains.

Recipe defaults (SPADE): hinge loss, feature matching (lambda 10), TTUR Adam
(G lr 1e-4, D lr 4e-4, betas 0 / 0.9), spectral norm everywhere, learning rate
constant for the first half and linearly decayed to 0 over the second half.
SPADE regenerates ``fake`` under ``no_grad`` for its D step; here the G step's
``fake`` is reused (detached), which saves a generator forward per step.

Robustness: atomic checkpoints every ``ckpt_every`` steps and at the end;
``resume=True`` continues bit-exactly on CPU (data order, RNG, optimizer and
spectral-norm/BatchNorm buffers are all restored); SIGINT/SIGTERM save a
resumable checkpoint before stopping; a NaN/inf loss stops before the weights
are touched and leaves the last good checkpoint as it was. The output folder
belongs to one run and one writing process (:mod:`posgen_lib.train.rundir`).
"""
from __future__ import annotations

import contextlib
import copy
import json
import random
import signal
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler
from tqdm.auto import tqdm

from .. import checkpoint as ckpt
from ..config import Config
from ..data.build import build_dataset
from ..data.labels import get_label_set
from ..data.transforms import to_semantics
from ..errors import CheckpointError, Interrupted, RunFolderError, UserError
from ..models.discriminator import ImageEncoder
from ..models.registry import build_generator, load_generator
from ..runtime import (DistInfo, any_rank, autocast_dtype, barrier, compile_module, default_device,
                       init_distributed, memory_format)
from ..viz.figures import plot_losses
from ..viz.images import sample_grid, save_png
from . import rundir
from .objectives import build_objective, model_diff


class TrainingInterrupted(Interrupted):
    """SIGINT/SIGTERM arrived; a resumable checkpoint was saved first."""

    def __init__(self, signum: int, checkpoint: Path | None):
        self.checkpoint = checkpoint
        super().__init__(f"stopped by {signal.Signals(signum).name}; saved the resumable checkpoint {checkpoint}",
                         signum)


class TrainingDiverged(UserError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class TrainResult:
    generator: torch.nn.Module  # EMA weights when enabled, in eval mode
    out_dir: Path
    step: int
    checkpoint: Path | None
    log: list[dict] = field(default_factory=list)


def lr_scale(step: int, total: int, decay_start: float) -> float:
    """1 until ``decay_start * total`` steps, then linearly down to 0 at ``total``."""
    start = int(decay_start * total)
    if step < start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / max(1, total - start))


def base_learning_rates(cfg: Config) -> tuple[float, float]:
    """(G lr, D lr): TTUR halves G's and doubles D's (Heusel et al. 2017, as in SPADE)."""
    t = cfg.train
    return (t.lr / 2, t.lr * 2) if t.ttur else (t.lr, t.lr)


def ema_decay_at(step: int, decay: float) -> float:
    """EMA decay used after ``step`` completed steps: ``min(decay, (1 + step) / (10 + step))``."""
    return min(decay, (1 + step) / (10 + step))


class EpochBatches:
    """Index batches of one epoch: a seeded shuffle sharded across ranks (DistributedSampler),
    cut into per-rank batches, starting at ``position`` (to resume mid-epoch)."""

    def __init__(self, dataset, batch_per_rank: int, seed: int, info: DistInfo):
        self.sampler = DistributedSampler(dataset, num_replicas=info.world_size, rank=info.rank,
                                          shuffle=True, seed=seed, drop_last=True)
        self.batch = batch_per_rank
        self.steps_per_epoch = self.sampler.num_samples // batch_per_rank
        if self.steps_per_epoch == 0:
            raise ValueError(f"dataset of {len(dataset)} items is smaller than one batch "
                             f"({batch_per_rank * info.world_size}); lower --batch")

    def batches(self, epoch: int, position: int) -> list[list[int]]:
        self.sampler.set_epoch(epoch)
        idx = list(self.sampler)
        all_batches = [idx[i * self.batch:(i + 1) * self.batch] for i in range(self.steps_per_epoch)]
        return all_batches[position:]


class Trainer:
    """Holds the models, optimizers and state of one training run. Use :func:`train`."""

    def __init__(self, cfg: Config, out_dir: str | Path, device: str | None = None, dataset=None,
                 progress: bool = True):
        self.cfg = cfg.validate()
        self.out = Path(out_dir)
        self.info, self.device = init_distributed(default_device(device))
        self.progress = progress and self.info.is_main
        self.amp_dtype = autocast_dtype(self.device, cfg.train.amp)
        self.label_set = get_label_set(cfg.data.label_set)
        if self.label_set.num_classes != cfg.model.label_nc:
            raise ValueError(f"label set {self.label_set.name!r} has {self.label_set.num_classes} "
                             f"classes but model.label_nc is {cfg.model.label_nc}")
        t = cfg.train
        if t.batch_size % self.info.world_size:
            raise ValueError(f"batch size {t.batch_size} is not divisible by {self.info.world_size} processes")

        self.objective = build_objective(cfg)  # what training this kind of generator means
        # the data first, so that a missing dataset fails before the models are built
        self.dataset = self.objective.training_set(dataset)
        self.batches = EpochBatches(self.dataset, t.batch_size // self.info.world_size, t.seed, self.info)
        self.total = t.steps if t.steps is not None else t.epochs * self.batches.steps_per_epoch
        if self.total < 0:
            raise ValueError(f"steps must be >= 0, got {self.total}")

        torch.manual_seed(t.seed)  # identical initial weights on every rank
        self.layout = memory_format(t.channels_last)
        self.G = build_generator(cfg.model).to(self.device, memory_format=self.layout)
        self.objective.to(self.device)
        self.objective.initialise(self.G)
        self.D = self.objective.discriminator().to(self.device, memory_format=self.layout)
        self.E = ImageEncoder(cfg.model).to(self.device, memory_format=self.layout) if cfg.model.use_vae else None
        self.ema = copy.deepcopy(self.G).eval().requires_grad_(False) if t.ema_decay else None
        lr_g, lr_d = base_learning_rates(cfg)
        g_params = [p for p in self.G.parameters() if p.requires_grad] + (list(self.E.parameters()) if self.E else [])
        self.opt_G = torch.optim.Adam(g_params, lr=lr_g, betas=(t.beta1, t.beta2))
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=lr_d, betas=(t.beta1, t.beta2))
        fp16 = self.amp_dtype == torch.float16
        self.scaler_G = torch.amp.GradScaler(self.device.type, enabled=fp16)
        self.scaler_D = torch.amp.GradScaler(self.device.type, enabled=fp16)

        self.step = self.epoch = self.position = 0
        self.log_rows: list[dict] = []
        self._stop_signal: int | None = None

    # ----- state ---------------------------------------------------------
    def state(self) -> dict:
        return {
            "format": ckpt.FORMAT, "config": self.cfg.to_dict(),
            "generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
            "encoder": self.E.state_dict() if self.E else None,
            "ema": self.ema.state_dict() if self.ema else None,
            "opt_G": self.opt_G.state_dict(), "opt_D": self.opt_D.state_dict(),
            "scaler_G": self.scaler_G.state_dict(), "scaler_D": self.scaler_D.state_dict(),
            "step": self.step, "epoch": self.epoch, "position": self.position,
            "rng": {"torch": torch.get_rng_state(), "python": random.getstate(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
            "log": self.log_rows[-1] if self.log_rows else {},
        }

    def load_state(self, state: dict, source: Path, allow_change: bool = False) -> None:
        """Restore everything from a checkpoint ``state`` (read from ``source``)."""
        try:
            saved = Config.from_dict(state["config"], source=str(source))
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(f"{source}: its config is damaged or from another version ({err}); "
                                  "resume from an earlier checkpoint in the same folder") from None
        diff = model_diff(saved, self.cfg)
        if diff:
            raise CheckpointError(f"{source} was trained with a different model: " + "; ".join(diff))
        changed = rundir.changed_fields(saved, self.cfg)
        if changed and not allow_change:
            raise RunFolderError(f"--resume with a changed recipe ({'; '.join(changed)}); use the run's "
                                 "settings, or pass --allow-change to continue with the new ones")
        try:
            self.G.load_state_dict(state["generator"])
            self.D.load_state_dict(state["discriminator"])
            if self.E is not None:
                self.E.load_state_dict(state["encoder"])
            if self.ema is not None and state["ema"] is not None:
                self.ema.load_state_dict(state["ema"])
            self.opt_G.load_state_dict(state["opt_G"])
            self.opt_D.load_state_dict(state["opt_D"])
            self.scaler_G.load_state_dict(state["scaler_G"])
            self.scaler_D.load_state_dict(state["scaler_D"])
            self.step, self.epoch, self.position = state["step"], state["epoch"], state["position"]
            rng = state["rng"]
            torch.set_rng_state(rng["torch"])
            random.setstate(_as_python_random_state(rng["python"]))
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            what = f"missing entry {err}" if isinstance(err, KeyError) else ckpt.weights_mismatch(err)
            raise CheckpointError(f"{source} is damaged ({what}); resume from an earlier checkpoint "
                                  "in the same folder") from None
        if rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])

    def save(self) -> Path | None:
        if not self.info.is_main:
            return None
        path = ckpt.save_checkpoint(ckpt.step_path(self.out / "checkpoints", self.step), self.state())
        ckpt.prune_checkpoints(self.out / "checkpoints", self.cfg.train.keep)
        return path

    # ----- one step --------------------------------------------------------
    def _autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def _inputs(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        label = batch["label"].to(self.device, non_blocking=True)
        instance = batch["instance"].to(self.device, non_blocking=True)
        sem = to_semantics(label, instance, self.label_set, self.cfg.model.use_instance)
        real = batch["image"].to(self.device, non_blocking=True)
        return sem.contiguous(memory_format=self.layout), real.contiguous(memory_format=self.layout)

    def train_step(self, batch: dict, G, D, E) -> dict[str, torch.Tensor]:
        sem, real = self._inputs(batch)
        extra = {k: v.to(self.device, non_blocking=True) for k, v in batch.items() if k.startswith("patch_")}
        scale = lr_scale(self.step, self.total, self.cfg.train.decay_start)
        for opt, base in zip((self.opt_G, self.opt_D), base_learning_rates(self.cfg)):
            for group in opt.param_groups:
                group["lr"] = base * scale

        self.D.requires_grad_(False)  # the G step needs no D gradients
        with self._autocast():
            g_losses, fake = self.objective.generator_losses(G, self.D, sem, real, E, extra)
        self.D.requires_grad_(True)
        if not g_losses:
            raise UserError(f"nothing to train: every generator loss of the {self.objective.name} objective has "
                            "weight 0 here; give one of them a positive weight (e.g. --rec 1)")
        self._check_finite(g_losses)
        self.opt_G.zero_grad(set_to_none=True)
        self.scaler_G.scale(sum(g_losses.values())).backward()
        self.scaler_G.step(self.opt_G)
        self.scaler_G.update()

        with self._autocast():
            d_losses = self.objective.discriminator_losses(D, sem, real, fake, extra)
        self._check_finite(d_losses)
        if d_losses:  # none when no term of the objective uses a discriminator (e.g. L1-only any-resolution)
            self.opt_D.zero_grad(set_to_none=True)
            self.scaler_D.scale(sum(d_losses.values())).backward()
            self.scaler_D.step(self.opt_D)
            self.scaler_D.update()

        if self.ema is not None:
            self._update_ema()
        return {**g_losses, **d_losses}

    def _check_finite(self, losses: dict[str, torch.Tensor]) -> None:
        bad = {k: v.item() for k, v in losses.items() if not torch.isfinite(v)}
        if any_rank(bool(bad), self.info, self.device):
            last = ckpt.latest_checkpoint(self.out / "checkpoints")
            raise TrainingDiverged(
                f"loss became non-finite at step {self.step} ({bad or 'on another rank'}); weights "
                f"were not updated; last good checkpoint: {last or 'none yet'}; try a lower --lr or --amp off, "
                "or resume from that checkpoint")

    @torch.no_grad()
    def _update_ema(self) -> None:
        # Warm-up (TensorFlow's ExponentialMovingAverage with num_updates): early
        # on the average covers only the steps so far, instead of being mostly
        # the random initial weights (0.999^500 = 61% of them after 500 steps).
        decay = ema_decay_at(self.step, self.cfg.train.ema_decay)
        for p_ema, p in zip(self.ema.parameters(), self.G.parameters()):
            p_ema.lerp_(p, 1 - decay)
        for b_ema, b in zip(self.ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    # ----- the loop --------------------------------------------------------
    def _checkpoint_to_resume(self, resume, overwrite: bool) -> Path | None:
        """Which checkpoint to continue from (None: a new run); refuses what would lose or mix runs."""
        folder = self.out / "checkpoints"
        if resume not in (False, True, "auto"):
            return Path(resume)  # an explicit checkpoint file
        latest = ckpt.latest_checkpoint(folder)
        if resume is True and latest is None:
            raise RunFolderError(f"--resume: no checkpoint in {folder}; drop --resume to start a new run, "
                                 "or use --resume auto (resume when there is a checkpoint)")
        if resume and latest is not None:
            return latest
        existing = rundir.describe_run(self.out) if rundir.has_results(self.out) else None
        if existing and resume != "auto" and not overwrite:
            raise RunFolderError(f"{self.out} already holds {existing}; continue it with --resume, train into "
                                 "a new --out, or pass --overwrite to move it aside")
        return None

    def fit(self, resume: bool | str | Path = False, overwrite: bool = False,
            allow_change: bool = False, owner: str | None = None) -> TrainResult:
        """Train to ``self.total`` steps. ``resume``: False (a new run), True (the newest checkpoint,
        which must exist), ``"auto"`` (the newest if any, else a new run) or a checkpoint path;
        ``overwrite``: move a run already in the folder aside; ``allow_change``: resume with a
        different recipe; ``owner``: the command a new run belongs to (recorded in run.json)."""
        with contextlib.ExitStack() as stack:
            path = self._checkpoint_to_resume(resume, overwrite)
            barrier(self.info)  # every rank has read the folder before rank 0 changes it
            if self.info.is_main:
                stack.enter_context(rundir.RunLock(self.out))
                if path is None and overwrite and rundir.describe_run(self.out):
                    stack.close()
                    moved = rundir.move_aside(self.out)
                    if self.progress:
                        tqdm.write(f"moved the previous run aside to {moved}")
                    stack.enter_context(rundir.RunLock(self.out))
            if path is not None:
                self.load_state(ckpt.load_checkpoint(path, map_location=self.device), path, allow_change)
                if self.progress:
                    tqdm.write(f"resumed from {path} at step {self.step}")
            if self.info.is_main:
                if path is None:
                    rundir.start_run(self.out, self.cfg, owner)
                self.log_rows = rundir.truncate_log(self.out, self.step)
            return self._loop()

    def _loop(self) -> TrainResult:
        G = self.objective.generator_step(self.G)  # G itself, or a module around it (any-resolution)
        G = DDP(G) if self.info.distributed else G
        D = DDP(self.D) if self.info.distributed else self.D
        E = DDP(self.E) if self.info.distributed and self.E is not None else self.E
        if self.cfg.train.compile in ("generator", "all"):
            G = compile_module(G, self.device)
        if self.cfg.train.compile == "all":
            D = compile_module(D, self.device)
        self.G.train(), self.D.train()
        sample_batch = self._sample_batch()
        writer = self._tensorboard()
        sums: dict[str, float] = {}
        count, t_last = 0, time.perf_counter()
        bar = tqdm(total=self.total, initial=self.step, disable=not self.progress, desc="train",
                   unit="step")
        with _StopSignals(self):
            while self.step < self.total:
                loader = DataLoader(self.dataset, batch_sampler=self.batches.batches(self.epoch, self.position),
                                    num_workers=self.cfg.data.num_workers,
                                    pin_memory=self.device.type == "cuda")
                for batch in loader:
                    losses = self.train_step(batch, G, D, E)
                    self.step += 1
                    self.position += 1
                    for k, v in losses.items():
                        sums[k] = sums.get(k, 0.0) + v.item()
                    count += 1
                    bar.update(1)
                    if self.step % self.cfg.train.log_every == 0 or self.step == self.total:
                        now = time.perf_counter()
                        row = {"step": self.step, "epoch": self.epoch,
                               **{k: v / count for k, v in sums.items()},
                               "lr_G": self.opt_G.param_groups[0]["lr"],
                               "sec_per_step": (now - t_last) / count}
                        self._log(row, writer, bar)
                        sums, count, t_last = {}, 0, now
                    if self.step % self.cfg.train.sample_every == 0:
                        self._save_samples(sample_batch, f"step_{self.step:07d}.png")
                    if self.step % self.cfg.train.ckpt_every == 0 and self.step < self.total:
                        self.save()
                    if any_rank(self._stop_signal is not None, self.info, self.device):
                        raise TrainingInterrupted(self._stop_signal or signal.SIGTERM, self.save())
                    if self.step >= self.total:
                        break
                else:
                    self.epoch, self.position = self.epoch + 1, 0
        bar.close()
        return self._finish(sample_batch, writer)

    def _finish(self, sample_batch, writer) -> TrainResult:
        path = self.save()
        if writer is not None:
            writer.close()
        final = self.ema if self.ema is not None else self.G
        final.eval()
        if self.info.is_main:
            ckpt.save_model(self.out / "model.pt", final, self.cfg,
                            card={"steps": self.step, "seed": self.cfg.train.seed,
                                  "ema": self.ema is not None})
            self._save_samples(sample_batch, "final.png")
            if self.log_rows:
                plot_losses(self.log_rows, self.out / "loss_curve.png",
                            title=f"{self.cfg.model.generator} on {self.cfg.data.dataset}")
        return TrainResult(final, self.out, self.step, path, self.log_rows)

    def _log(self, row: dict, writer, bar) -> None:
        self.log_rows.append(row)
        if not self.info.is_main:
            return
        with open(self.out / rundir.LOG_FILE, "a") as f:
            f.write(json.dumps(row) + "\n")
        if writer is not None:
            for k, v in row.items():
                if k not in ("step", "epoch"):
                    writer.add_scalar(k, v, row["step"])
        bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if k in ("G_GAN", "G_feat", "D_fake", "D_real")})

    def _sample_batch(self, n: int = 4) -> dict | None:
        if not self.info.is_main:
            return None
        try:
            held_out = build_dataset(self.cfg, "val")
        except (FileNotFoundError, ValueError):
            held_out = self.dataset
        count = min(n, len(held_out))  # spread over the split: neighbouring frames of a video look alike
        items = [held_out[i * len(held_out) // count] for i in range(count)]
        return {k: torch.stack([it[k] for it in items]) for k in ("label", "instance", "image")}

    @torch.no_grad()
    def _save_samples(self, batch: dict | None, name: str) -> None:
        if batch is None:
            return
        model = self.ema if self.ema is not None else self.G
        was_training = model.training
        model.eval()
        sem, real = self._inputs(batch)
        fake = model(sem)
        model.train(was_training)
        save_png(sample_grid(batch["label"], batch["image"], [fake], self.label_set),
                 self.out / "samples" / name)

    def _tensorboard(self):
        if not self.info.is_main:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            return None
        return SummaryWriter(str(self.out / "tb"))


def _as_python_random_state(state):
    """random.setstate needs tuples; a weights_only load may return lists."""
    version, internal, gauss = state
    return version, tuple(internal), gauss


class _StopSignals:
    """Turn SIGINT/SIGTERM into a flag checked after each step (main thread only)."""

    def __init__(self, trainer: Trainer):
        self.trainer, self.previous = trainer, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.trainer._stop_signal is not None:  # second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.trainer._stop_signal = signum

    def __exit__(self, *exc):
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)
        return False


def train(cfg: Config, out_dir: str | Path, resume: bool | str | Path = False, device: str | None = None,
          dataset=None, progress: bool = True, overwrite: bool = False,
          allow_change: bool = False, owner: str | None = None) -> TrainResult:
    """Train ``cfg.model.generator`` with SPADE's recipe; writes checkpoints, logs and samples to ``out_dir``.

    ``resume``, ``overwrite``, ``allow_change`` and ``owner``: see :meth:`Trainer.fit`.
    """
    return Trainer(cfg, out_dir, device, dataset, progress).fit(resume, overwrite, allow_change, owner)


def load_or_train(cfg: Config, folder: str | Path, device=None, progress: bool = True):
    """``folder/model.pt`` if it exists (and matches ``cfg.model``), else train into ``folder``.

    The notebooks' "load the checkpoint if present, else train with the budget"
    (the UvA DL course pattern). An interrupted training is resumed. Returns the
    generator in eval mode; the step budget is ``cfg.train.steps`` (notebooks
    set it with :func:`posgen_lib.config.budget`).
    """
    model_file = Path(folder) / "model.pt"
    if model_file.is_file():
        G, saved, _ = load_generator(model_file, device or "cpu")
        diff = model_diff(saved, cfg)
        if diff:
            raise CheckpointError(f"{model_file} was trained with another model config ({'; '.join(diff)}); "
                                  "delete it or use another folder")
        return G
    return train(cfg, folder, resume="auto", device=device, progress=progress).generator
