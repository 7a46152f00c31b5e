#!/usr/bin/env python3
"""Derive assets/geo/* from the PyPI package `vietnamadminunits` (MIT).

Usage (from the repository root):

    pip install vietnamadminunits==1.0.4
    python3 tools/geo/derive.py

Stdlib only, plus the package's bundled data files (read directly; the
package's Python modules are never imported, so its heavy dependencies are
not needed at run time).

Writes, under assets/geo/:
  units.tsv                        dataset, level, code, name, kind, parent_code
  mapping-2025.tsv                 old_code, new_code, level
  LICENSE-vietnamadminunits.txt    the package's licence, as shipped
  README.md                        provenance, file layout, row counts
"""

import importlib.metadata
import importlib.util
import json
import sqlite3
import sys
import unicodedata
from collections import Counter
from pathlib import Path

PACKAGE = "vietnamadminunits"
REPO_ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = REPO_ROOT / "assets" / "geo"

# Type words, canonical spelling. Longest first so "Thành phố" wins over
# nothing shorter, and "Thị xã"/"Thị trấn" are tried before anything else.
KINDS = ["Thành phố", "Thị trấn", "Đặc khu", "Thị xã", "Phường", "Huyện",
         "Quận", "Tỉnh", "Xã"]
LEVEL_RANK = {"province": 0, "district": 1, "commune": 2}
CODE_WIDTH = {"province": 2, "district": 3, "commune": 5}


def nfc(s):
    return unicodedata.normalize("NFC", s).strip()


def split_kind(full):
    """'Thị Xã Buôn Hồ' -> ('Thị xã', 'Buôn Hồ'); 'Phường 1' -> ('Phường', '1')."""
    full = nfc(full)
    low = full.casefold()
    for kind in KINDS:
        k = kind.casefold()
        if low.startswith(k + " "):
            return kind, full[len(kind) + 1:].strip()
    raise ValueError(f"no known type prefix in {full!r}")


def package_dir():
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{PACKAGE} is not installed: pip install {PACKAGE}")
    return Path(list(spec.submodule_search_locations)[0])


def licence_text():
    dist = importlib.metadata.distribution(PACKAGE)
    for f in dist.files or []:
        if f.name.upper().startswith(("LICENSE", "LICENCE", "COPYING")):
            return f.read_text(encoding="utf-8"), str(f)
    author = dist.metadata.get("Author") or "the vietnamadminunits authors"
    return None, author


class Units:
    def __init__(self):
        self.rows = {}        # (dataset, code) -> (level, name, kind, parent)
        self.notes = []       # data quirks worth reporting

    def add(self, dataset, level, code, full, declared_kind, parent, short=None):
        code = nfc(code)
        assert code.isdigit() and len(code) == CODE_WIDTH[level], (dataset, level, code)
        kind, name = split_kind(full)
        if declared_kind and nfc(declared_kind) != kind:
            self.notes.append(f"{dataset} {level} {code}: full name {full!r} "
                              f"but type column {declared_kind!r}; kept {kind!r} (from full name)")
        if short is not None:
            s = nfc(short)
            if s.endswith(")") and " (" in s:          # 'Tân Thành (Phường)'
                s = s[: s.rindex(" (")]
            ok = s == name                            # 'Phường Đúc' is a proper name
            if not ok:
                try:                                  # 'Quận 1', 'Phường 1'
                    ok = split_kind(s) == (kind, name)
                except ValueError:
                    pass
            if not ok:
                self.notes.append(f"{dataset} {level} {code}: name {name!r} != short {short!r}")
        row = (level, name, kind, parent or "")
        key = (dataset, code)
        old = self.rows.get(key)
        if old is not None and old != row:
            raise SystemExit(f"conflicting rows for {key}: {old} vs {row}")
        self.rows[key] = row


def main():
    pkg = package_dir()
    version = importlib.metadata.version(PACKAGE)
    db = sqlite3.connect(f"file:{pkg / 'data' / 'dataset.db'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    units = Units()

    # ---- legacy map (63 provinces), table admin_units_legacy -> dataset 2024
    legacy_key = {}   # converter key 'prov_dist_ward' -> (level, code)
    for r in db.execute("SELECT * FROM admin_units_legacy"):
        p, d, w = r["provinceCode"], r["districtCode"], r["wardCode"]
        units.add("2024", "province", p, r["province"], None, None, r["provinceShort"])
        units.add("2024", "district", d, r["district"], r["districtType"], p, r["districtShort"])
        key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
        if w is None:    # island districts without communes (Bạch Long Vĩ, Cồn Cỏ, ...)
            legacy_key[key] = ("district", d)
            continue
        units.add("2024", "commune", w, r["ward"], r["wardType"], d, r["wardShort"])
        legacy_key[key] = ("commune", w)
    legacy_prov = {r["provinceKey"]: r["provinceCode"] for r in
                   db.execute("SELECT DISTINCT provinceKey, provinceCode FROM admin_units_legacy")}

    # ---- current map (34 provinces), table admin_units -> dataset 2025
    new_key = {}      # (provinceKey, wardKey) -> code
    new_prov = {}
    for r in db.execute("SELECT * FROM admin_units"):
        p, w = r["provinceCode"], r["wardCode"]
        units.add("2025", "province", p, r["province"], None, None, r["provinceShort"])
        units.add("2025", "commune", w, r["ward"], r["wardType"], p, r["wardShort"])
        new_key[(r["provinceKey"], r["wardKey"])] = w
        new_prov[r["provinceKey"]] = p

    # ---- converter: legacy -> 2025
    conv = json.loads((pkg / "data" / "converter_2025.json").read_text(encoding="utf-8"))
    pairs = set()     # (level, old_code, new_code)
    for nk, olds in conv["DICT_PROVINCE"].items():
        for ok in olds:
            pairs.add(("province", legacy_prov[ok], new_prov[nk]))
    for nk, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for wk, olds in wards.items():
            for ok in olds:
                level, code = legacy_key[ok]
                pairs.add((level, code, new_key[(nk, wk)]))
    for nk, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for ok, news in olds.items():
            level, code = legacy_key[ok]
            for n in news:
                pairs.add((level, code, new_key[(nk, n["newWardKey"])]))

    # ---- write
    OUT_DIR.mkdir(parents=True, exist_ok=True)

    def write(name, lines):
        text = "".join(line.rstrip(" ") + "\n" for line in lines)   # keep tabs: empty last field
        (OUT_DIR / name).write_bytes(text.encode("utf-8"))

    unit_rows = sorted(((ds, LEVEL_RANK[v[0]], code) + v for (ds, code), v in units.rows.items()))
    write("units.tsv", ["dataset\tlevel\tcode\tname\tkind\tparent_code"] +
          ["\t".join((ds, lvl, code, name, kind, parent))
           for ds, _, code, lvl, name, kind, parent in unit_rows])
    map_rows = sorted(pairs, key=lambda t: (LEVEL_RANK[t[0]], t[1], t[2]))
    write("mapping-2025.tsv", ["old_code\tnew_code\tlevel"] +
          [f"{o}\t{n}\t{lvl}" for lvl, o, n in map_rows])

    lic, src = licence_text()
    if lic is None:
        lic = MIT_TEMPLATE.format(holder=src)
        src = "not shipped; standard MIT text with the author from the package metadata"
    write("LICENSE-vietnamadminunits.txt", lic.rstrip("\n").split("\n"))

    counts = Counter((ds, lvl) for ds, _, _, lvl, *_ in unit_rows)
    map_counts = Counter(lvl for lvl, _, _ in map_rows)
    kinds = Counter((ds, lvl, kind) for ds, _, _, lvl, _, kind, _ in unit_rows)
    write("README.md", readme(version, counts, map_counts, kinds, len(unit_rows),
                              len(map_rows), src, units.notes).split("\n"))

    # ---- validate
    errors = validate(units.rows, map_rows)
    for n in units.notes:
        print("note:", n)
    for (ds, lvl), n in sorted(counts.items(), key=lambda t: (t[0][0], LEVEL_RANK[t[0][1]])):
        print(f"units {ds} {lvl}: {n}")
    for lvl, n in sorted(map_counts.items(), key=lambda t: LEVEL_RANK[t[0]]):
        print(f"mapping {lvl}: {n}")
    for f in sorted(OUT_DIR.iterdir()):
        print(f"{f.relative_to(REPO_ROOT)}: {f.stat().st_size} bytes")
    if errors:
        for e in errors:
            print("ERROR:", e)
        sys.exit(1)
    print("validation: OK")


def validate(rows, map_rows):
    errors = []
    for (ds, code), (lvl, name, kind, parent) in rows.items():
        want = {"province": None, "district": "province",
                "commune": "district" if ds == "2024" else "province"}[lvl]
        if want is None:
            if parent:
                errors.append(f"{ds} {code}: province with parent")
        elif rows.get((ds, parent), (None,))[0] != want:
            errors.append(f"{ds} {lvl} {code}: parent {parent!r} is not a {want} of {ds}")
        if not name or name != name.strip() or unicodedata.normalize("NFC", name) != name:
            errors.append(f"{ds} {code}: bad name {name!r}")
    for lvl, o, n in map_rows:
        if rows.get(("2024", o), (None,))[0] != lvl:
            errors.append(f"mapping {lvl} old {o} not a 2024 {lvl}")
        want_new = "province" if lvl == "province" else "commune"
        if rows.get(("2025", n), (None,))[0] != want_new:
            errors.append(f"mapping {lvl} new {n} not a 2025 {want_new}")
    mapped_old = {(lvl, o) for lvl, o, _ in map_rows}
    mapped_new = {n for _, _, n in map_rows}
    for (ds, code), (lvl, *_) in rows.items():
        if ds == "2024" and lvl in ("province", "commune") and (lvl, code) not in mapped_old:
            errors.append(f"2024 {lvl} {code} has no 2025 mapping")
        if ds == "2025" and code not in mapped_new:
            errors.append(f"2025 {lvl} {code} is not the target of any mapping")
    return errors


MIT_TEMPLATE = """MIT License

Copyright (c) {holder}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def readme(version, counts, map_counts, kinds, n_units, n_map, lic_src, notes):
    def kind_list(ds, lvl):
        return ", ".join(f"{k} {n}" for (d, l, k), n in sorted(kinds.items()) if d == ds and l == lvl)

    notes_md = "\n".join(f"  - {n}" for n in notes) or "  - none"
    return f"""# Vietnamese administrative units

Derived data, generated by `tools/geo/derive.py`. Do not edit by hand.

## Source and licence

- Source: the PyPI package [`{PACKAGE}`](https://pypi.org/project/{PACKAGE}/) version **{version}**
  (Tran Ngoc Minh Hieu, <https://github.com/tranngocminhhieu/vietnamadminunits>), from its bundled
  files `data/dataset.db` (tables `admin_units_legacy` and `admin_units`) and `data/converter_2025.json`.
- Licence: MIT. The licence text as shipped in the package (`{lic_src}`) is copied verbatim to
  `LICENSE-vietnamadminunits.txt`, which must accompany these files.

## Files

All files are UTF-8 (NFC), tab-separated with one header line, LF line endings.

### `units.tsv` ({n_units} rows)

Columns: `dataset  level  code  name  kind  parent_code`

- `dataset`: `2024` = the legacy map (63 provinces, districts, communes), valid until 30 June 2025;
  `2025` = the current map from 1 July 2025 (34 provinces, communes, no district level).
- `level`: `province`, `district` or `commune` (wards, communes, townships and the 2025
  *đặc khu* special zones are all level `commune`).
- `code`: the official numeric code as a string with leading zeros (province 2 digits,
  district 3 digits, commune 5 digits). Codes are unique within a dataset (their lengths
  differ by level); the same code can denote different units in `2024` and `2025`.
- `name`: the proper name without the type word, e.g. `Tuyên Quang`, `Thượng Lâm`;
  numbered units such as *Phường 1* / *Quận 1* have the name `1`.
- `kind`: the type word, e.g. `Tỉnh`, `Thành phố`, `Huyện`, `Quận`, `Thị xã`, `Xã`, `Phường`,
  `Thị trấn`, `Đặc khu`.
- `parent_code`: district → its province; 2024 commune → its district; 2025 commune → its
  province; empty for provinces.

Rows are sorted by dataset, then level (province, district, commune), then code.

| dataset | level | rows | kinds |
| --- | --- | ---: | --- |
""" + "\n".join(
        f"| {ds} | {lvl} | {n} | {kind_list(ds, lvl)} |"
        for (ds, lvl), n in sorted(counts.items(), key=lambda t: (t[0][0], LEVEL_RANK[t[0][1]]))
    ) + f"""

The five island districts of the legacy map that had no communes (Bạch Long Vĩ, Cồn Cỏ,
Hoàng Sa, Lý Sơn, Côn Đảo) are present as districts only.

### `mapping-2025.tsv` ({n_map} rows)

Columns: `old_code  new_code  level` — a `2024` unit → the `2025` unit(s) it went into, one row per
pair, sorted by level (province, district, commune), then old code, then new code.

- `province`: legacy province code → 2025 province code ({map_counts.get('province', 0)} rows; every one of the 63 legacy provinces maps to exactly one of the 34).
- `district`: the island districts without communes → the 2025 *đặc khu* that replaced them ({map_counts.get('district', 0)} rows; `old_code` is a 3-digit district code).
- `commune`: legacy commune code → 2025 commune code ({map_counts.get('commune', 0)} rows). A legacy commune that was split
  across several new communes has one row per new commune (all pairs are kept, no "default" is marked).

Every legacy province and commune has at least one row, and every 2025 commune is the target of at least one row.

## Regenerating

```sh
pip install {PACKAGE}=={version}
python3 tools/geo/derive.py
```

The script uses only the standard library and reads the package's data files directly; it
validates parents and mapping codes and exits non-zero on any inconsistency.

## Known gaps

- Units that were merged away **before** July 2025 are not in the legacy (`2024`) list, which
  reflects the map just before 1 July 2025. Examples: Trà Lĩnh district of Cao Bằng (merged into
  Trùng Khánh in 2020); the communes Cao Đại, Việt Xuân and Bồ Sao of Vĩnh Tường (Vĩnh Phúc);
  Bến Gót ward of Việt Trì (Phú Thọ). The application adds such units as historical units itself.
- Names and type words are taken from the package's full names (e.g. `Phường 5`); where the
  package's separate type column disagrees with the full name, the full name wins (the
  units that fed each of the 2025 cases below confirm the full name). Type words in odd case
  (`Thị Xã`, `Thành Phố`, `Thị Trấn`) are normalised to `Thị xã`, `Thành phố`, `Thị trấn`.
  Disagreements:
{notes_md}
"""


if __name__ == "__main__":
    main()
