"""XMP sidecars (`photo.jpg.xmp`) carrying a star rating and a colour label that Lightroom and darktable read.

The photo itself is never opened for writing. An existing sidecar is updated in place: only the fields written
here change, and its namespace prefixes, comments, other properties and xpacket padding are kept as they were.
Otherwise a new minimal packet is created. Existing sidecars are parsed with defusedxml (no DTDs, entities or
external references); one that cannot be read, or that is a symbolic link, is reported and left untouched.
The new text goes to a unique temporary file in the same folder that then replaces the sidecar.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from xml.dom import minidom
from xml.parsers.expat import ExpatError

import defusedxml
import defusedxml.minidom

from fgaesq.io.atomic import OutputError, atomic_write_text
from fgaesq.io.names import printable

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "fgaesq": "https://fgaesq.org/ns/1.0/",
}
_XMLNS = "http://www.w3.org/2000/xmlns/"
#: Larger existing sidecars are refused rather than read (real ones are a few KB, darktable's history ~100 KB).
MAX_SIDECAR_BYTES = 16 * 1024 * 1024
_FIX = "left untouched; fix or move it away and rerun"

_NEW_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    f'<x:xmpmeta xmlns:x="{NS["x"]}" x:xmptk="fgaesq">\n'
    f' <rdf:RDF xmlns:rdf="{NS["rdf"]}">\n'
    f'  <rdf:Description rdf:about="" xmlns:xmp="{NS["xmp"]}" xmlns:fgaesq="{NS["fgaesq"]}"/>\n'
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
    '<?xpacket end="w"?>\n'
)


class SidecarError(OutputError):
    """An existing sidecar could not be read or replaced; it is left as it was."""


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


def _read_existing(path: Path) -> str | None:
    """Text of an existing sidecar (None when there is none or it is empty); links and odd files are refused."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as e:
        if os.path.islink(path):
            raise SidecarError(path, f"existing sidecar is a symbolic link; {_FIX}") from e
        raise SidecarError(path, f"cannot read existing sidecar ({e.strerror or e}); {_FIX}") from e
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise SidecarError(path, f"existing sidecar is not a regular file; {_FIX}")
        if st.st_size > MAX_SIDECAR_BYTES:
            raise SidecarError(path, f"existing sidecar is {st.st_size / 1e6:.0f} MB, too large for XMP; {_FIX}")
        raw = fh.read(MAX_SIDECAR_BYTES + 1)
    if not raw.strip():
        return None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise SidecarError(path, f"existing sidecar is not UTF-8 text (byte {e.start}); {_FIX}") from e


def _parse(path: Path, text: str) -> minidom.Document:
    """A hardened parse: DTDs, entities and external references are refused, never expanded or fetched."""
    try:
        return defusedxml.minidom.parseString(
            text.encode("utf-8"), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except ExpatError as e:
        raise SidecarError(path, f"existing sidecar is not well-formed XML ({e}); {_FIX}") from e
    except defusedxml.DefusedXmlException as e:
        raise SidecarError(path, f"existing sidecar uses DTDs or entities, refused for safety ({e}); {_FIX}") from e
    except Exception as e:  # noqa: BLE001 - any other parser failure is still an unreadable sidecar
        raise SidecarError(path, f"existing sidecar cannot be parsed ({type(e).__name__}); {_FIX}") from e


def _elements(node, uri: str, local: str):
    return [c for c in node.childNodes if c.nodeType == c.ELEMENT_NODE and (c.namespaceURI, c.localName) == (uri, local)]


def _find_rdf(root: minidom.Element) -> minidom.Element | None:
    if (root.namespaceURI, root.localName) == (NS["rdf"], "RDF"):
        return root
    found = root.getElementsByTagNameNS(NS["rdf"], "RDF")
    return found[0] if found else None


def _declared(node) -> dict[str, str]:
    """Namespace URI -> prefix declared on node or its ancestors (nearest declaration wins)."""
    chain = []
    while node is not None and node.nodeType == node.ELEMENT_NODE:
        chain.append(node)
        node = node.parentNode
    out: dict[str, str] = {}
    for el in reversed(chain):
        for name, value in el.attributes.items():
            if name.startswith("xmlns:"):
                out[value] = name[6:]
    return out


def _prefix_for(desc: minidom.Element, uri: str, wanted: str) -> str:
    """The prefix already bound to uri (kept as the sidecar has it), else a new declaration on desc."""
    declared = _declared(desc)
    if uri in declared:
        return declared[uri]
    taken = set(declared.values())
    prefix, n = wanted, 1
    while prefix in taken:
        prefix, n = f"{wanted}{n}", n + 1
    # declarations first, as a parser reports them, so that the next update leaves the start tag as it is
    others = [a for a in list(desc.attributes.values()) if not a.name.startswith("xmlns")]
    for a in others:
        desc.removeAttributeNode(a)
    desc.setAttributeNS(_XMLNS, f"xmlns:{prefix}", uri)
    for a in others:
        desc.setAttributeNodeNS(a)
    return prefix


def _update(path: Path, doc: minidom.Document, values: dict[tuple[str, str], str]) -> minidom.Element:
    """Set the given properties as attributes of the first rdf:Description; other forms of them are removed."""
    root = doc.documentElement
    rdf = _find_rdf(root)
    if rdf is None:
        raise SidecarError(path, f"existing sidecar has no rdf:RDF element; {_FIX}")
    descs = _elements(rdf, NS["rdf"], "Description")
    if descs:
        desc = descs[0]
    else:
        rdf_prefix = rdf.prefix or ""
        desc = doc.createElementNS(NS["rdf"], f"{rdf_prefix}:Description" if rdf_prefix else "Description")
        desc.setAttributeNS(NS["rdf"], f"{rdf_prefix}:about" if rdf_prefix else "about", "")
        rdf.appendChild(desc)
        descs = [desc]
    for (ns, name), value in values.items():
        uri = NS[ns]
        for d in descs:  # drop element forms everywhere and attribute forms on other descriptions
            for child in _elements(d, uri, name):
                d.removeChild(child)
            if d is not desc and d.hasAttributeNS(uri, name):
                d.removeAttributeNS(uri, name)
        if desc.hasAttributeNS(uri, name):
            desc.getAttributeNodeNS(uri, name).value = value
        else:
            desc.setAttributeNS(uri, f"{_prefix_for(desc, uri, ns)}:{name}", value)
    return root


_PROLOG_ITEM = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)


def _root_span(text: str, tag: str) -> tuple[int, int] | None:
    """Where the root element starts and ends in text (the prolog and epilog are only PIs, comments, space)."""
    pos = 0
    while m := _PROLOG_ITEM.match(text, pos):
        pos = m.end()
    start = text.find(f"<{tag}", pos)
    end = text.rfind(f"</{tag}")
    if start < 0 or end < 0:
        return None
    close = text.find(">", end)
    return (start, close + 1) if close > 0 else None


def _serialise(text: str, root: minidom.Element) -> str:
    """The original text with only the root element replaced: xpacket PIs, padding and outer comments kept."""
    body = root.toxml()
    span = _root_span(text, root.tagName)
    if span is None:  # e.g. an empty-element root; fall back to the whole document
        return '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + body + '\n<?xpacket end="w"?>\n'
    start, end = span
    return text[:start] + body + text[end:]


def write_sidecar(
    image: str | os.PathLike, *, rating: int, label: str | None = None, fields: dict[str, str] | None = None
) -> Path:
    """Write or update `<image>.xmp` with xmp:Rating, xmp:Label and fgaesq:* fields; returns the sidecar path.

    Raises SidecarError (naming the sidecar) when an existing one cannot be read or the folder is not writable.
    """
    path = sidecar_path(image)
    text = _read_existing(path)
    if text is None:
        text = _NEW_PACKET
    doc = _parse(path, text)
    values = {("xmp", "Rating"): str(int(rating))}
    if label is not None:
        values[("xmp", "Label")] = label
    for key, val in (fields or {}).items():
        values[("fgaesq", key)] = printable(str(val))  # XML cannot hold control characters or stray bytes
    try:
        body = _serialise(text, _update(path, doc, values))
    except RecursionError as e:
        raise SidecarError(path, f"existing sidecar is nested too deeply; {_FIX}") from e
    try:
        atomic_write_text(path, body)
    except OutputError as e:
        raise SidecarError(path, e.reason) from e
    return path
