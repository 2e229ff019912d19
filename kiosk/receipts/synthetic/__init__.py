"""Synthetic Thai receipt photos with known truth, for tests, the reader's benchmark and the demo.

content (the sale, as a `Receipt`) -> layout (printed lines) -> render (thermal strip) ->
camera (the kiosk's photo on its mat) -> dataset (files and labels.jsonl).
"""

from kiosk.receipts.synthetic.dataset import Sample, make_sample, write_samples

__all__ = ["Sample", "make_sample", "write_samples"]
