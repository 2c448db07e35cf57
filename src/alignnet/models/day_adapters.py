"""What is specific to one recording day: its read-in, read-out and simulate rate head.

Spike sorting is redone every day, so day ``d`` has its own ``N_d`` input channels (units, or
electrodes whose signal changed). The shared spiking U-Net works at a fixed width ``C``:

- read-in ``W_in[d]``: ``[C, N_d]``, per bin, in front of the spike encoder;
- read-out ``W_out[d]``: ``[N_d, C]``, per bin, behind the spike decoder (reconstruction and
  simulation in the day's own channels);
- rate head ``scale[d], bias[d]``: ``[N_d]``, simulated rates ``softplus(scale * y + bias)``.

A day with no entry and ``N_d == C`` passes through unchanged (identity read-in/read-out, the
model's shared rate head): that is the plain AlignNet of the paper. Windows of days with
different ``N_d`` arrive zero-padded to the widest day in the batch; each day's maps read only
its first ``N_d`` rows and write zeros past them, so the padding never reaches a parameter.
Everything here is keyed by the day index, saved in checkpoints, and is all that
`alignnet.api.AlignNet.align` fits for a new day.
"""

from __future__ import annotations

import torch
from torch import nn


def _key(day: int) -> str:
    return f"d{int(day)}".replace("-", "m")


class DayAdapters(nn.Module):
    """Per-day linear read-in / read-out and rate head around a width-``C`` network.

    Args:
        width: ``C``, the shared network's spike width.
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        self.width = int(width)
        self.readin = nn.ParameterDict()
        self.readout = nn.ParameterDict()
        self.rate_scale = nn.ParameterDict()
        self.rate_bias = nn.ParameterDict()
        self._inputs: dict[int, int] = {}

    # ------------------------------------------------------------------ registry
    @property
    def inputs(self) -> dict[int, int]:
        """Day -> its channel count ``N_d``, for every day that has adapters."""
        return dict(self._inputs)

    def has(self, day: int) -> bool:
        return int(day) in self._inputs

    def add_day(self, day: int, n_inputs: int, *, seed: int = 0) -> None:
        """Give ``day`` adapters (no-op if it has them): identity when ``N_d == C``, else a
        seeded random orthogonal read-in and its transpose as read-out."""
        day, n_inputs = int(day), int(n_inputs)
        if day in self._inputs:
            if self._inputs[day] != n_inputs:
                raise ValueError(
                    f"day {day} has adapters for {self._inputs[day]} channels, not {n_inputs}"
                )
            return
        device = next((p.device for p in self.parameters()), torch.device("cpu"))
        if n_inputs == self.width:
            w_in = torch.eye(self.width)
        else:
            gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + day)
            q, _ = torch.linalg.qr(
                torch.randn(max(self.width, n_inputs), self.width, generator=gen)
            )
            w_in = q[:n_inputs].T.contiguous()  # [C, N_d], orthonormal rows or columns
        key = _key(day)
        self.readin[key] = nn.Parameter(w_in.to(device))
        self.readout[key] = nn.Parameter(w_in.T.contiguous().to(device))
        self.rate_scale[key] = nn.Parameter(torch.ones(n_inputs, device=device))
        self.rate_bias[key] = nn.Parameter(torch.zeros(n_inputs, device=device))
        self._inputs[day] = n_inputs

    def readin_weight(self, day: int) -> torch.Tensor:
        """``[C, N_d]`` read-in of ``day`` (which must have adapters)."""
        return self.readin[_key(day)]

    def day_parameters(self, day: int) -> list[nn.Parameter]:
        """The parameters of one day (what aligning that day fits)."""
        key = _key(day)
        return [self.readin[key], self.readout[key], self.rate_scale[key], self.rate_bias[key]]

    # ------------------------------------------------------------------ maps
    def _groups(self, day: torch.Tensor | int, batch: int, width_in: int):
        """``(rows, day or None)`` per day present; None = pass-through (no adapters).

        An ``int`` day (one day for the whole batch, as in an exported graph) gives all rows
        without any data-dependent operation."""
        if isinstance(day, int):
            yield torch.arange(batch), (day if day in self._inputs else None)
            return
        for d in torch.unique(day).tolist():
            rows = (day == d).nonzero(as_tuple=True)[0]
            yield rows, (int(d) if int(d) in self._inputs else None)

    def _check_identity(self, day: torch.Tensor | int | None, width: int) -> None:
        if width != self.width:
            raise ValueError(
                f"day {day} has {width} channels and no read-in for this {self.width}-channel "
                "network: align the day first (AlignNet.align)"
            )

    def read_in(self, spikes: torch.Tensor, day: torch.Tensor | int | None) -> torch.Tensor:
        """``[B, N_pad, L]`` normalised spikes -> ``[B, C, L]``. ``day``: ``[B]`` day ids, one
        ``int`` for the whole batch, or None (no read-in)."""
        if isinstance(day, int) and day in self._inputs:
            w = self.readin[_key(day)].to(spikes.dtype)
            return torch.einsum("cn,bnl->bcl", w, spikes[:, : self._inputs[day]])
        if day is None or isinstance(day, int) or not self._inputs:
            self._check_identity(day, spikes.shape[1])
            return spikes
        out = spikes.new_zeros(spikes.shape[0], self.width, spikes.shape[2])
        for rows, d in self._groups(day, spikes.shape[0], spikes.shape[1]):
            if d is None:
                self._check_identity(None, spikes.shape[1])
                out = out.index_copy(0, rows, spikes[rows])
                continue
            n = self._inputs[d]
            w = self.readin[_key(d)].to(spikes.dtype)
            out = out.index_copy(0, rows, torch.einsum("cn,bnl->bcl", w, spikes[rows, :n]))
        return out

    def read_out(
        self, y: torch.Tensor, day: torch.Tensor | None, *, width_out: int
    ) -> torch.Tensor:
        """``[B, C, L]`` decoder output -> ``[B, width_out, L]`` in each day's channels."""
        if day is None or not self._inputs:
            return y
        out = y.new_zeros(y.shape[0], width_out, y.shape[2])
        for rows, d in self._groups(day, y.shape[0], width_out):
            if d is None:
                out = out.index_copy(0, rows, y[rows, :width_out])
                continue
            w = self.readout[_key(d)].to(y.dtype)
            mapped = torch.einsum("nc,bcl->bnl", w, y[rows])
            out = out.index_copy(
                0, rows, nn.functional.pad(mapped, (0, 0, 0, width_out - w.shape[0]))
            )
        return out

    def rates(
        self,
        y: torch.Tensor,
        day: torch.Tensor | None,
        *,
        width_out: int,
        shared_scale: torch.Tensor,
        shared_bias: torch.Tensor,
    ) -> torch.Tensor:
        """Simulated rates ``[B, width_out, L]`` (counts per bin, >= 0; zero past a day's
        channels) from the spike decoder's output ``[B, C, L]``."""
        shared = lambda v: nn.functional.softplus(shared_scale[:, None] * v + shared_bias[:, None])  # noqa: E731
        if day is None or not self._inputs:
            return shared(y)
        out = y.new_zeros(y.shape[0], width_out, y.shape[2])
        for rows, d in self._groups(day, y.shape[0], width_out):
            if d is None:
                out = out.index_copy(0, rows, shared(y[rows]))
                continue
            key = _key(d)
            mapped = torch.einsum("nc,bcl->bnl", self.readout[key].to(y.dtype), y[rows])
            rate = nn.functional.softplus(
                self.rate_scale[key][:, None] * mapped + self.rate_bias[key][:, None]
            )
            out = out.index_copy(
                0, rows, nn.functional.pad(rate, (0, 0, 0, width_out - rate.shape[1]))
            )
        return out
