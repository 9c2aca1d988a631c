"""The P x K identity sampler: every batch holds P identities with K images each.

The paper states no sampler; the P x K batch (16 ids x 4 images) is the recipe of the strong
baselines that the model specification (``docs/model_spec.md``) adopts, and batch-hard triplet
mining needs it. The way batches are formed is that of torchreid's ``RandomIdentitySampler``: each
identity's images are shuffled and cut into groups of K (a remainder shorter than K is dropped; an
identity with fewer than K images is sampled with replacement to K), then P identities that still
have groups are drawn at random for each batch until fewer than P are left.

Sharding is ours, in the manner of ``DistributedSampler``: every rank builds the same global batches
from ``seed`` and ``epoch`` and takes the identities ``rank::num_replicas`` of each, so ranks see
disjoint identities of the same global batch and the same number of batches.

Batches from one source are ours too: given each item's ``source`` (the set a joint training set
took it from), every batch draws its P identities from one source, the source picked at random in
proportion to the groups it has left; a source with fewer than P identities left stops. The joint
training diagnosis in *Datasets* uses it to ask whether mixed batches, whose batch-hard negatives
mostly come from another set, are what makes joint training worse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterator, Sequence

import numpy as np
from torch.utils.data import Sampler


class PKSampler(Sampler[int]):
    """Yield dataset indices in batches of ``num_ids`` identities x ``num_instances`` images.

    Use with ``DataLoader(batch_size=sampler.batch_size, drop_last=True)``; call
    :meth:`set_epoch` before each epoch (a new shuffle per epoch, as with ``DistributedSampler``).

    Args:
        pids: the identity of each dataset item (``pids[i]`` for index ``i``).
        num_ids: P, identities per global batch (a multiple of ``num_replicas``).
        num_instances: K, images per identity in a batch.
        seed: base of the shuffle; the batches depend only on ``seed`` and the epoch.
        num_replicas: number of ranks sharing each global batch.
        rank: this rank, ``0 <= rank < num_replicas``.
        sources: the source of each item (``sources[i]`` for index ``i``), to draw each batch from
            one source; None draws from all. An identity must have one source.

    Raises:
        ValueError: a parameter is out of range, there are fewer than P identities, ``sources``
            does not have one entry per item, or an identity has two sources.
    """

    def __init__(
        self,
        pids: Sequence[int],
        num_ids: int = 16,
        num_instances: int = 4,
        *,
        seed: int = 0,
        num_replicas: int = 1,
        rank: int = 0,
        sources: Sequence[Hashable] | None = None,
    ) -> None:
        if num_ids < 1 or num_instances < 1:
            raise ValueError(
                f"num_ids (P) and num_instances (K) must be >= 1, got {num_ids} and {num_instances}"
            )
        if num_replicas < 1 or not 0 <= rank < num_replicas:
            raise ValueError(f"need 0 <= rank < num_replicas, got rank {rank} of {num_replicas}")
        if num_ids % num_replicas:
            raise ValueError(
                f"num_ids (P = {num_ids}) must be a multiple of num_replicas ({num_replicas}) "
                f"so that each rank gets the same number of identities"
            )
        indices = defaultdict(list)
        for index, pid in enumerate(pids):
            indices[int(pid)].append(index)
        if len(indices) < num_ids:
            raise ValueError(
                f"num_ids (P = {num_ids}) exceeds the {len(indices)} identities in the dataset"
            )
        self._indices = {pid: np.asarray(indices[pid]) for pid in sorted(indices)}
        self._source_of = None if sources is None else _source_of_each_id(pids, sources)
        self.num_ids = num_ids
        self.num_instances = num_instances
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.start_batch = 0
        self._cache: tuple[int, list[list[np.ndarray]]] | None = None

    @property
    def batch_size(self) -> int:
        """Images per batch on this rank: (P / num_replicas) * K."""
        return self.num_ids // self.num_replicas * self.num_instances

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch's shuffle; ``start_batch`` skips the batches a resumed run has seen."""
        self.epoch = epoch
        self.start_batch = start_batch

    def state_dict(self) -> dict[str, int]:
        """What a checkpoint needs to resume the same batches on the same ranks."""
        return {"seed": self.seed, "epoch": self.epoch, "start_batch": self.start_batch}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Restore :meth:`state_dict`; set ``start_batch`` to the batches already trained on."""
        self.seed = int(state["seed"])
        self.set_epoch(int(state["epoch"]), int(state.get("start_batch", 0)))

    def global_batches(self) -> list[list[np.ndarray]]:
        """This epoch's global batches, each a list of P index arrays of length K (one per id)."""
        if self._cache is not None and self._cache[0] == self.epoch:
            return self._cache[1]
        rng = np.random.default_rng([self.seed, self.epoch])
        groups: dict[int, list[np.ndarray]] = {}
        k = self.num_instances
        for pid, idxs in self._indices.items():
            if len(idxs) < k:
                idxs = rng.choice(idxs, size=k, replace=True)
            else:
                idxs = rng.permutation(idxs)
            groups[pid] = [idxs[i : i + k] for i in range(0, len(idxs) - k + 1, k)]
        batches = []
        pools = self._pools(groups)
        while pools:
            if len(pools) == 1:
                pool = pools[0]
            else:
                left = np.array([sum(len(groups[pid]) for pid in pool) for pool in pools])
                pool = pools[rng.choice(len(pools), p=left / left.sum())]
            chosen = rng.choice(pool, size=self.num_ids, replace=False)
            batches.append([groups[int(pid)].pop() for pid in chosen])
            pools = self._pools(groups)
        self._cache = (self.epoch, batches)
        return batches

    def _pools(self, groups: dict[int, list[np.ndarray]]) -> list[list[int]]:
        """The identities a batch may be drawn from, as lists of ids that still have groups: one
        list of all of them, or one per source; a list shorter than P is left out."""
        available = [pid for pid in groups if groups[pid]]
        if self._source_of is None:
            pools = [available]
        else:
            by_source: dict[Hashable, list[int]] = defaultdict(list)
            for pid in available:
                by_source[self._source_of[pid]].append(pid)
            pools = [by_source[source] for source in sorted(by_source, key=str)]
        return [pool for pool in pools if len(pool) >= self.num_ids]

    def __iter__(self) -> Iterator[int]:
        for batch in self.global_batches()[self.start_batch :]:
            for group in batch[self.rank :: self.num_replicas]:
                yield from (int(i) for i in group)

    def __len__(self) -> int:
        return max(0, len(self.global_batches()) - self.start_batch) * self.batch_size


def _source_of_each_id(pids: Sequence[int], sources: Sequence[Hashable]) -> dict[int, Hashable]:
    """``{pid: source}``; raises ValueError on a length mismatch or an id with two sources."""
    if len(sources) != len(pids):
        raise ValueError(f"sources has {len(sources)} entries for {len(pids)} items")
    source_of: dict[int, Hashable] = {}
    for pid, source in zip(pids, sources, strict=True):
        if source_of.setdefault(int(pid), source) != source:
            first = source_of[int(pid)]
            raise ValueError(
                f"identity {int(pid)} comes from two sources, {first!r} and {source!r}"
            )
    return source_of
