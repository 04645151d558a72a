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
