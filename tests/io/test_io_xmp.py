"""XMP sidecars, read back with exiv2 (pyexiv2), the library darktable itself uses."""

from __future__ import annotations

import pyexiv2
from PIL import Image
from skimage import data

from fgaesq.io.xmp import rating_for_rank, sidecar_path, write_sidecar


def _read(path):
    img = pyexiv2.Image(str(path))
    try:
        return img.read_xmp()
    finally:
        img.close()


def test_rating_mapping():
    assert [rating_for_rank(r, 5) for r in range(1, 6)] == [5, 4, 3, 2, 1]
    assert [rating_for_rank(r, 2) for r in (1, 2)] == [5, 1]
    assert [rating_for_rank(r, 3) for r in (1, 2, 3)] == [5, 4, 1]
    ratings = [rating_for_rank(r, 12) for r in range(1, 13)]
    assert ratings[0] == 5 and ratings[-1] == 1 and ratings == sorted(ratings, reverse=True)


def test_sidecar_written_and_read_back_without_touching_the_photo(tmp_path):
    photo = tmp_path / "burst-1.jpg"
    Image.fromarray(data.astronaut()).save(photo, quality=90)
    before = photo.read_bytes()
    side = write_sidecar(photo, rating=5, label="Green", fields={"Score": "5.1234", "Series": "burst-1"})
    assert side == sidecar_path(photo) == tmp_path / "burst-1.jpg.xmp"
    xmp = _read(side)
    assert xmp["Xmp.xmp.Rating"] == "5"
    assert xmp["Xmp.xmp.Label"] == "Green"
    assert photo.read_bytes() == before


def test_existing_sidecar_is_updated_not_clobbered(tmp_path):
    photo = tmp_path / "p.jpg"
    Image.fromarray(data.coffee()).save(photo)
    side = sidecar_path(photo)
    side.write_text(
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><xmp:Rating>2</xmp:Rating>'
        "<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">My title</rdf:li></rdf:Alt></dc:title>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>"
    )
    write_sidecar(photo, rating=3)
    xmp = _read(side)
    assert xmp["Xmp.xmp.Rating"] == "3"
    assert "My title" in str(xmp["Xmp.dc.title"])


DARKTABLE = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">\n'
    " <!-- written by darktable -->\n"
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    '  <rdf:Description rdf:about=""\n'
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
    '    xmlns:darktable="http://darktable.sf.net/"\n'
    '    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"\n'
    '   xmp:Rating="1"\n'
    '   darktable:xmp_version="5"\n'
    '   darktable:history_end="2">\n'
    "   <darktable:history>\n"
    "    <rdf:Seq>\n"
    '     <rdf:li darktable:operation="exposure" darktable:enabled="1"/>\n'
    "    </rdf:Seq>\n"
    "   </darktable:history>\n"
    "   <lr:hierarchicalSubject><rdf:Bag><rdf:li>trip|alps</rdf:li></rdf:Bag></lr:hierarchicalSubject>\n"
    "  </rdf:Description>\n"
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
)


def test_darktable_sidecar_keeps_prefixes_comments_and_padding(tmp_path):
    photo = tmp_path / "d.jpg"
    Image.fromarray(data.chelsea()).save(photo)
    padding = ("".ljust(99) + "\n") * 20
    original = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' + DARKTABLE + padding + '<?xpacket end="w"?>'
    )
    sidecar_path(photo).write_text(original, encoding="utf-8")
    write_sidecar(photo, rating=4, label="Green", fields={"Score": "6.5"})
    text = sidecar_path(photo).read_text(encoding="utf-8")
    assert "ns0:" not in text and "ns3:" not in text
    assert 'darktable:operation="exposure"' in text and "<darktable:history>" in text
    assert "<!-- written by darktable -->" in text
    assert text.endswith(padding + '<?xpacket end="w"?>')
    assert text.startswith('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta')
    xmp = _read(sidecar_path(photo))
    assert xmp["Xmp.xmp.Rating"] == "4" and xmp["Xmp.xmp.Label"] == "Green"
    assert xmp["Xmp.darktable.history_end"] == "2"
    assert xmp["Xmp.lr.hierarchicalSubject"] == ["trip|alps"]
    # a second update changes only fgaesq's fields
    write_sidecar(photo, rating=2, fields={"Score": "3.25"})
    again = sidecar_path(photo).read_text(encoding="utf-8")
    assert again.replace('xmp:Rating="2"', 'xmp:Rating="4"').replace("3.25", "6.5") == text
    # darktable's own form: an XML declaration and no xpacket
    plain = tmp_path / "p.jpg"
    Image.fromarray(data.chelsea()).save(plain)
    sidecar_path(plain).write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + DARKTABLE, encoding="utf-8")
    write_sidecar(plain, rating=5)
    text = sidecar_path(plain).read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<x:xmpmeta') and "darktable:history_end" in text
    assert _read(sidecar_path(plain))["Xmp.xmp.Rating"] == "5"


def test_sidecar_fields_with_control_or_undecodable_characters_stay_valid_xml(tmp_path):
    import os

    photo = tmp_path / "c.jpg"
    Image.fromarray(data.coffee()).save(photo)
    write_sidecar(photo, rating=5, fields={"Series": os.fsdecode(b"a\xff\x1bb\nc")})
    xmp = _read(sidecar_path(photo))
    assert xmp["Xmp.xmp.Rating"] == "5"
    assert "\x1b" not in sidecar_path(photo).read_text(encoding="utf-8")
