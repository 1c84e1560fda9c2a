"""Synthetic telematics landing data (pure Python + numpy) with an exact known answer.

``generate_landing`` writes master data (incl. routes and regions), position files, raw JT/T 809 /
808 frames, platform link events and 查岗 checks under ``<lake>/landing/telematics/`` and returns a
:class:`GenerationSummary` that end-to-end tests assert the pipeline against.
"""

from transforms.telematics.generate.landing import GenerationSummary, generate_landing

__all__ = ["GenerationSummary", "generate_landing"]
