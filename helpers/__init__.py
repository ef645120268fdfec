"""Shared code for the Multimodal Search and RAG course.

One module per concept:

- ``helpers.settings``  paths from the repository root, profile, seeds, threads, device
- ``helpers.data``      the data set: records, splits, readers, manifest check
- ``helpers.audio``     waveforms to log-mel spectrograms
- ``helpers.plotting``  image grids, spectrograms, video strips, inline players
- ``helpers.bench``     the course benchmark and the headless course run

Importing the package applies the profile (offline by default: no hub calls).
"""

from helpers import settings

__all__ = ["settings"]
