#!/usr/bin/env python3
"""Writes an _index.json metadata index (the format of astro_metadata_translator's
`astrometadata write-index`: "__CONTENT__": "metadata", the keys every file shares in
"__COMMON__", each file's other keys under its name) into every directory below ROOT that
holds FITS files. Each file's header is its primary header merged with the first
extension's (extension values win), structural keywords dropped. Standard library only.
  usage: write_index.py ROOT"""
import json
import os
import re
import sys

STRUCTURAL = re.compile(r"^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT|END|COMMENT|HISTORY|CHECKSUM|"
                        r"DATASUM|ZIMAGE|ZBITPIX|ZNAXIS\d*|ZTILE\d*|ZCMPTYPE|ZQUANTIZ|TFIELDS|TTYPE\d+|TFORM\d+)$")


def value_of(text):
    text = text.strip()
    if text.startswith("'"):
        out, i = [], 1
        while i < len(text):
            if text[i] == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    out.append("'")
                    i += 2
                    continue
                break
            out.append(text[i])
            i += 1
        return "".join(out).rstrip()
    text = text.split("/", 1)[0].strip()
    if text == "T":
        return True
    if text == "F":
        return False
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text.replace("D", "E"))


def headers(path):
    """The header cards of the first two HDUs, as dicts."""
    out = []
    with open(path, "rb") as f:
        for _ in range(2):
            cards, naxes, bitpix, pcount, gcount = {}, {}, 8, 0, 1
            while True:
                block = f.read(2880)
                if len(block) < 2880:
                    return out
                done = False
                for i in range(0, 2880, 80):
                    card = block[i:i + 80].decode("ascii", "replace")
                    key = card[:8].strip()
                    if key == "END":
                        done = True
                        break
                    if card[8:10] != "= ":
                        continue
                    value = value_of(card[10:])
                    if key == "BITPIX":
                        bitpix = value
                    elif re.fullmatch(r"NAXIS\d+", key):
                        naxes[key] = value
                    elif key == "PCOUNT":
                        pcount = value
                    elif key == "GCOUNT":
                        gcount = value
                    if not STRUCTURAL.match(key):
                        cards[key] = value
                if done:
                    break
            out.append(cards)
            size = 1
            for v in naxes.values():
                size *= v
            data = (abs(bitpix) // 8) * gcount * (pcount + (size if naxes else 0))
            f.seek((data + 2879) // 2880 * 2880, 1)
    return out


def main(root):
    for dirpath, _, filenames in os.walk(root):
        names = sorted(n for n in filenames if re.search(r"\.fits?$", n))
        if not names:
            continue
        merged = {}
        for name in names:
            hdus = headers(os.path.join(dirpath, name))
            h = dict(hdus[0]) if hdus else {}
            for extra in hdus[1:]:
                h.update(extra)
            merged[name] = h
        common = dict(merged[names[0]])
        for h in merged.values():
            common = {k: v for k, v in common.items() if k in h and h[k] == v}
        doc = {"__CONTENT__": "metadata", "__COMMON__": common}
        for name, h in merged.items():
            doc[name] = {k: v for k, v in h.items() if k not in common}
        with open(os.path.join(dirpath, "_index.json"), "w") as f:
            json.dump(doc, f)


if __name__ == "__main__":
    main(sys.argv[1])
