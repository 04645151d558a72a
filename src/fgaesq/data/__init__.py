"""fgaesq.data: label formats (coarse scores, fine-grained series) and torch datasets/samplers for training."""

from fgaesq.data.coarse import gaussian_bins, read_ava, read_coarse, read_coarse_csv
from fgaesq.data.errors import DataFormatError
from fgaesq.data.fgaesthetics import FGAESTHETICS_COLUMNS, read_fgaesthetics
from fgaesq.data.fine import read_fine, read_jsonl_series
from fgaesq.data.records import CoarseRecord, PairLabel, SeriesRecord
from fgaesq.data.schedule import ScheduleConfig, ScheduleSampler
from fgaesq.data.series_folder import read_series_folder, read_series_folders

__all__ = [
    "FGAESTHETICS_COLUMNS",
    "CoarseRecord",
    "DataFormatError",
    "PairLabel",
    "ScheduleConfig",
    "ScheduleSampler",
    "SeriesRecord",
    "gaussian_bins",
    "read_ava",
    "read_coarse",
    "read_coarse_csv",
    "read_fgaesthetics",
    "read_fine",
    "read_jsonl_series",
    "read_series_folder",
    "read_series_folders",
]
