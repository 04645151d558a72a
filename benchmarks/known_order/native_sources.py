"""Photographs at native resolution for the native known-order benchmark, each with its licence.

Debian wallpaper packages (photographs only; renders, illustrations and logos left out by hand after looking at
every file): `lomiri-wallpapers` (+ its 16.04 / 20.04 sets) and `mate-backgrounds` (nature set). The
`gnome-backgrounds`, `ukui-wallpapers` and `sway-backgrounds` packages were looked at and hold no photographs
(abstract renders and logos). Licences are read from each package's /usr/share/doc/<pkg>/copyright.
Absent packages are skipped.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.known_order.sources import Source, _mate_licences, _rgb

BACKGROUNDS = Path("/usr/share/backgrounds")
LOMIRI_COPYRIGHT = Path("/usr/share/doc/lomiri-wallpapers/copyright")
# lomiri-wallpapers photographs (installed flat in /usr/share/backgrounds)
LOMIRI_PHOTOS = (
    "Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg", "Infinite-Sea_by_Aury88.jpg",
    "Kleiber_by_Lukas_Baubkus.jpg", "Picture_0B_by_freespace.jpg", "Picture_1A_by_freespace.jpg",
    "Wine_by_Jakkub_Mede.jpg", "aitzgorri_by_Aitzol_Berasategi.jpg", "free_by_Peter_Nerlich.jpg",
    "friends_by_Aitzol_Berasategi.jpg", "greentock_by_Peter_Nerlich.jpg", "life_by_Aitzol_Berasategi.jpg",
    "picosdeeuropa_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg",
    "sunset_by_Aitzol_Berasategi.jpg",
)  # fmt: skip
MATE_NATURE = BACKGROUNDS / "mate" / "nature"


def _lomiri_licences() -> dict[str, str]:
    """File name -> licence from lomiri-wallpapers' machine-readable copyright file."""
    out: dict[str, str] = {}
    if not LOMIRI_COPYRIGHT.is_file():
        return out
    files: list[str] = []
    holder = ""
    for line in LOMIRI_COPYRIGHT.read_text(errors="replace").splitlines():
        if line.startswith("Files:"):
            files, holder = [Path(f).name for f in line.split(":", 1)[1].split()], ""
        elif line.startswith("Copyright:"):
            holder = line.split(":", 1)[1].strip()
        elif line.startswith("License:") and files:
            for f in files:
                out[f] = f"{line.split(':', 1)[1].strip()}, (c) {holder}".strip(", ")
            files = []
    return out


def lomiri_sources() -> list[Source]:
    """lomiri-wallpapers photographs."""
    lic = _lomiri_licences()
    return [
        Source(f"lomiri/{n.rsplit('.', 1)[0]}", "lomiri-wallpapers",
               f"{lic.get(n, 'see ' + str(LOMIRI_COPYRIGHT))} (Debian lomiri-wallpapers)", _rgb(BACKGROUNDS / n))
        for n in LOMIRI_PHOTOS if (BACKGROUNDS / n).is_file()
    ]  # fmt: skip


def mate_sources() -> list[Source]:
    """mate-backgrounds nature photographs."""
    if not MATE_NATURE.is_dir():
        return []
    lic = _mate_licences()
    return [
        Source(f"mate/{p.stem}", "mate-backgrounds",
               f"{lic.get('nature/' + p.name) or lic.get('*') or 'see mate-backgrounds copyright'} (Debian mate-backgrounds)",
               _rgb(p))
        for p in sorted(MATE_NATURE.glob("*.jpg"))
    ]  # fmt: skip


def native_sources() -> list[Source]:
    """Every available wallpaper photograph, in a fixed order."""
    return lomiri_sources() + mate_sources()
