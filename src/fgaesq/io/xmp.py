"""XMP sidecars (`photo.jpg.xmp`) carrying a star rating and a colour label that Lightroom and darktable read.

The photo itself is never opened for writing. An existing sidecar is updated in place (only the fields written
here change); otherwise a new minimal packet is created.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "fgaesq": "https://fgaesq.org/ns/1.0/",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)


def sidecar_path(image: str | os.PathLike) -> Path:
    """Where the sidecar of an image goes: the full file name plus `.xmp` (darktable's convention)."""
    p = Path(image)
    return p.with_name(p.name + ".xmp")


def rating_for_rank(rank: int, count: int) -> int:
    """Stars for a 1-based rank in a series of count images: best = 5, the rest spread from 4 down to 1."""
    if rank <= 1:
        return 5
    if count <= 2:
        return 1
    frac = (rank - 2) / (count - 2)
    return 4 - round(3 * frac)


def _q(prefix: str, name: str) -> str:
    return f"{{{NS[prefix]}}}{name}"


def _new_tree() -> ET.ElementTree:
    root = ET.Element(_q("x", "xmpmeta"), {_q("x", "xmptk"): "fgaesq"})
    rdf = ET.SubElement(root, _q("rdf", "RDF"))
    ET.SubElement(rdf, _q("rdf", "Description"), {_q("rdf", "about"): ""})
    return ET.ElementTree(root)


def write_sidecar(
    image: str | os.PathLike, *, rating: int, label: str | None = None, fields: dict[str, str] | None = None
) -> Path:
    """Write or update `<image>.xmp` with xmp:Rating, xmp:Label and fgaesq:* fields; returns the sidecar path."""
    path = sidecar_path(image)
    tree = ET.parse(path) if path.exists() and path.stat().st_size > 0 else _new_tree()
    root = tree.getroot()
    rdf = root if root.tag == _q("rdf", "RDF") else root.find(_q("rdf", "RDF"))
    if rdf is None:
        raise ValueError(f"{path}: existing sidecar has no rdf:RDF element; move it away and rerun")
    desc = rdf.find(_q("rdf", "Description"))
    if desc is None:
        desc = ET.SubElement(rdf, _q("rdf", "Description"), {_q("rdf", "about"): ""})
    values = {("xmp", "Rating"): str(int(rating))}
    if label is not None:
        values[("xmp", "Label")] = label
    for key, val in (fields or {}).items():
        values[("fgaesq", key)] = str(val)
    for (prefix, name), val in values.items():
        for d in rdf.findall(_q("rdf", "Description")):  # drop element forms of the same property
            for child in d.findall(_q(prefix, name)):
                d.remove(child)
            if d is not desc:
                d.attrib.pop(_q(prefix, name), None)
        desc.set(_q(prefix, name), val)
    ET.indent(tree, space=" ")
    body = ET.tostring(root, encoding="unicode")
    packet = f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n{body}\n<?xpacket end="w"?>\n'
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(packet, encoding="utf-8")
    os.replace(tmp, path)
    return path
