"""Speed and cost: ``posgen bench`` (ratios measured side by side), counted FLOPs and memory."""
from . import memory

__all__ = ["memory"]
