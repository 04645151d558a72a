"""fgaesq.tokenize: DiffToken, the multiscale tokenizer for single images and image pairs."""

from .pixels import pad_or_crop_32
from .posembed import PositionalTable
from .ssim import cell_importance, cell_ssim
from .tokenizer import DiffTokenizer, candidates_from, fine_tokens_kept, pair_seed
from .types import TokenBatch, Tokens, collate_tokens

__all__ = [
    "DiffTokenizer",
    "PositionalTable",
    "TokenBatch",
    "Tokens",
    "candidates_from",
    "cell_importance",
    "cell_ssim",
    "collate_tokens",
    "fine_tokens_kept",
    "pad_or_crop_32",
    "pair_seed",
]
