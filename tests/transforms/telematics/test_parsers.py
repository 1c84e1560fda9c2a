"""The telematics landing parser: raw JT/T 809 / 808 frames decoded into positions
(transforms/telematics/parsers.py) through the shared landing."""

from pathlib import Path

from deltalake import DeltaTable

from transforms.lake.landing import land_feed

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_frames_land_decoded_into_positions_and_bad_frames_are_kept(tmp_path):
    from transforms.telematics.feeds import FRAMES

    lake = tmp_path / "lake"
    folder = lake / "landing/telematics/frames/2026-11-02"
    folder.mkdir(parents=True)
    good = (FIXTURES / "frames" / "sample.hex").read_text().strip().splitlines()
    bad = good[0][:-6] + ("00" if not good[0].endswith("00") else "11") + good[0][-4:]
    (folder / "p.hex").write_text("\n".join([*good, bad, "zz not hex"]) + "\n")

    result = land_feed(lake, FRAMES)

    assert (result.records, result.malformed) == (len(good), 2)
    bronze = DeltaTable(str(lake / "bronze/telematics__positions")).to_pyarrow_table().to_pylist()
    assert sorted(r["source"] for r in bronze) == sorted(["jtt808", "jtt809"])
    assert all(r["gnss_time"] and r["lon"] for r in bronze)
    quarantine = DeltaTable(str(lake / "quarantine/telematics__positions")).to_pyarrow_table()
    assert quarantine.column("failed_rules").to_pylist() == [["malformed_frame"]] * 2
    errors = quarantine.column("error").to_pylist()
    assert errors[1].startswith("bad_hex") and errors[0].split(":")[0] in {
        "bad_checksum",
        "bad_escape",
        "bad_length",
    }
