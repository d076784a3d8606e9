"""nmfedu.score: FMP CSV and MIDI note tables, validation messages, round trips."""
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from nmfedu import score

HEADER = "Start;Duration;Pitch;Velocity;Instrument\n"


def table(rows):
    return pd.DataFrame(rows, columns=score.COLUMNS)


def write(tmp_path, text, name="score.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


# --------------------------------------------------------------------------- read_csv
def test_read_csv_basic(tmp_path):
    p = write(tmp_path, HEADER + "0.5;0.5;71;80;right\n0;0.5;55;80;left\n\n")
    df = score.read_csv(p)
    assert list(df.columns) == score.COLUMNS
    assert df["Pitch"].tolist() == [55, 71]          # sorted by Start
    assert df["Pitch"].dtype.kind == "i" and df["Start"].dtype.kind == "f"
    assert df["Instrument"].tolist() == ["left", "right"]


def test_read_csv_sorts_by_start_then_pitch(tmp_path):
    p = write(tmp_path, HEADER + "1;1;64;1;a\n0;1;67;1;a\n0;1;60;1;b\n")
    df = score.read_csv(p)
    assert list(zip(df.Start, df.Pitch)) == [(0, 60), (0, 67), (1, 64)]


def test_read_csv_accepts_integral_float_pitch_and_header_case(tmp_path):
    p = write(tmp_path, "start;duration;pitch;velocity;instrument\n0;1;60.0;0.5;x\n")
    assert score.read_csv(p)["Pitch"].tolist() == [60]


def test_read_csv_fmp_style_quotes(tmp_path):
    p = write(tmp_path, '"Start";"Duration";"Pitch";"Velocity";"Instrument"\n'
                        '0.0;0.5;60;100;"Piano"\n')
    assert score.read_csv(p)["Instrument"].tolist() == ["Piano"]


@pytest.mark.parametrize("line, column, expected", [
    ("0;1;abc;80;left", "Pitch", "integer 0..127"),
    ("0;1;128;80;left", "Pitch", "integer 0..127"),
    ("0;1;-1;80;left", "Pitch", "integer 0..127"),
    ("0;1;60.5;80;left", "Pitch", "integer 0..127"),
    ("0;-0.5;60;80;left", "Duration", "> 0"),
    ("0;0;60;80;left", "Duration", "> 0"),
    ("-1;1;60;80;left", "Start", "≥ 0"),
    ("x;1;60;80;left", "Start", "a number"),
    ("0;1;60;-3;left", "Velocity", "≥ 0"),
    ("0;1;60;nan;left", "Velocity", "a number"),
    ("0;inf;60;80;left", "Duration", "a number"),
    ("0;1;60;80;  ", "Instrument", "non-empty"),
])
def test_read_csv_bad_value_names_row_and_column(tmp_path, line, column, expected):
    good = "0;1;60;80;left\n"
    p = write(tmp_path, HEADER + good * 6 + line + "\n")
    with pytest.raises(ValueError) as e:
        score.read_csv(p)
    msg = str(e.value)
    assert "score.csv row 7 (line 8)" in msg
    assert f"column {column}" in msg
    assert expected in msg


def test_read_csv_message_quotes_the_bad_text(tmp_path):
    p = write(tmp_path, HEADER + "0;1;60;80;left\n" * 6 + "0;1;abc;80;left\n")
    with pytest.raises(ValueError, match=r"score.csv row 7 \(line 8\), column Pitch: "
                                         r"expected an integer 0..127, got 'abc'"):
        score.read_csv(p)


def test_read_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="path"):
        score.read_csv(tmp_path / "nope.csv")


def test_read_csv_bad_header(tmp_path):
    with pytest.raises(ValueError, match="lacks the column"):
        score.read_csv(write(tmp_path, "Start;Duration;Pitch\n0;1;60\n"))
    with pytest.raises(ValueError, match="separator"):
        score.read_csv(write(tmp_path, "Start,Duration,Pitch,Velocity,Instrument\n0,1,60,1,a\n"))
    with pytest.raises(ValueError, match="empty"):
        score.read_csv(write(tmp_path, ""))


def test_read_csv_short_row(tmp_path):
    with pytest.raises(ValueError, match=r"row 1 \(line 2\): expected 5 fields"):
        score.read_csv(write(tmp_path, HEADER + "0;1;60\n"))


def test_read_csv_header_only_gives_empty_table(tmp_path):
    df = score.read_csv(write(tmp_path, HEADER))
    assert len(df) == 0 and list(df.columns) == score.COLUMNS


def test_read_path_type():
    with pytest.raises(ValueError, match="path"):
        score.read_csv(42)


# --------------------------------------------------------------------------- validate
def test_validate_clips_notes_past_the_end():
    df = table([(0, 1, 60, 80, "a"), (1.5, 1, 62, 80, "a"), (3, 1, 64, 80, "b")])
    with pytest.warns(UserWarning, match="1 note.*dropped, 1 note.*shortened"):
        out = score.validate(df, duration=2.0)
    assert out["Pitch"].tolist() == [60, 62]
    assert out["Duration"].tolist() == [1.0, 0.5]


def test_validate_no_warning_when_inside():
    df = table([(0, 1, 60, 80, "a")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        score.validate(df, duration=1.0)


def test_validate_messages_use_index_label():
    df = table([(0, 1, 60, 80, "a"), (0, -1, 60, 80, "a")])
    df.index = [10, 11]
    with pytest.raises(ValueError, match="notes row 11, column Duration"):
        score.validate(df)


def test_validate_missing_column_and_group():
    with pytest.raises(ValueError, match="missing column"):
        score.validate(pd.DataFrame({"Start": [0.0]}))
    df = table([(0, 1, 60, 80, "a")])
    with pytest.raises(ValueError, match="group='Hand' is not a column"):
        score.validate(df, group="Hand")
    df["Hand"] = ["left"]
    assert score.validate(df, group="Hand")["Hand"].tolist() == ["left"]


def test_validate_rejects_non_dataframe_and_bad_duration():
    with pytest.raises(ValueError, match="DataFrame"):
        score.validate([[0, 1, 60, 80, "a"]])
    with pytest.raises(ValueError, match="duration"):
        score.validate(table([(0, 1, 60, 80, "a")]), duration=-1)
    with pytest.raises(ValueError, match="duration"):
        score.validate(table([(0, 1, 60, 80, "a")]), duration="long")


def test_validate_rejects_bool_pitch():
    with pytest.raises(ValueError, match="Pitch"):
        score.validate(table([(0, 1, True, 80, "a")]))


def test_validate_keeps_extra_columns_and_does_not_modify_input():
    df = table([(1, 1, 60, 80, "a"), (0, 1, 62, 80, "b")])
    df["Label"] = ["x", "y"]
    before = df.copy()
    out = score.validate(df)
    pd.testing.assert_frame_equal(df, before)
    assert out["Label"].tolist() == ["y", "x"]


# --------------------------------------------------------------------------- write / round trips
def test_write_csv_format(tmp_path):
    df = table([(0.25, 0.5, 55, 80, "left"), (1 / 3, 1, 71, 80.5, "right")])
    p = score.write_csv(df, tmp_path / "s.csv")
    lines = p.read_text().splitlines()
    assert lines[0] == "Start;Duration;Pitch;Velocity;Instrument"
    assert lines[1] == "0.25;0.5;55;80;left"
    assert lines[2] == "0.333333;1;71;80.5;right"


def test_write_csv_errors(tmp_path):
    df = table([(0, 1, 60, 80, "a;b")])
    with pytest.raises(ValueError, match="Instrument"):
        score.write_csv(df, tmp_path / "s.csv")
    with pytest.raises(FileNotFoundError, match="folder"):
        score.write_csv(table([(0, 1, 60, 80, "a")]), tmp_path / "nope" / "s.csv")
    with pytest.raises(ValueError, match="decimals"):
        score.write_csv(table([(0, 1, 60, 80, "a")]), tmp_path / "s.csv", decimals=-1)


labels = st.text(alphabet=st.characters(blacklist_characters=';"\n\r', blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                 min_size=1, max_size=8)
rows = st.tuples(
    st.floats(0, 1000, allow_nan=False).map(lambda v: round(v, 6)),
    st.floats(1e-3, 100, allow_nan=False).map(lambda v: round(v, 6)),
    st.integers(0, 127),
    st.one_of(st.integers(0, 127), st.floats(0, 1000, allow_nan=False).map(lambda v: round(v, 6))),
    labels,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(rows, max_size=25))
def test_csv_round_trip(tmp_path_factory, rs):
    df = score.validate(table(rs)) if rs else score.empty()
    p = tmp_path_factory.mktemp("rt") / "s.csv"
    score.write_csv(df, p)
    back = score.read_csv(p)
    assert len(back) == len(df)
    if len(df):
        key = ["Start", "Pitch", "Instrument", "Duration", "Velocity"]
        a = df.sort_values(key).reset_index(drop=True)
        b = back.sort_values(key).reset_index(drop=True)
        assert (a["Pitch"] == b["Pitch"]).all()
        assert (a["Instrument"].str.strip() == b["Instrument"]).all()
        np.testing.assert_allclose(b["Start"], a["Start"], atol=1e-6)
        np.testing.assert_allclose(b["Duration"], a["Duration"], atol=1e-6)
        np.testing.assert_allclose(b["Velocity"], a["Velocity"], atol=1e-6)
    # writing again gives the same bytes
    p2 = p.with_name("s2.csv")
    score.write_csv(back, p2)
    assert p2.read_bytes() == p.read_bytes()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4000), st.integers(1, 2000), st.integers(0, 127),
                          st.integers(1, 127), st.sampled_from(["left", "right"])),
                max_size=20, unique_by=lambda r: (r[0], r[2], r[4])))
def test_midi_round_trip_on_the_tick_grid(tmp_path_factory, ticks):
    # times on a 480-ticks-per-quarter grid at 120 bpm read back exactly
    sec = 60 / (120 * 480)
    df = table([(a * sec, b * sec, p, v, g) for a, b, p, v, g in ticks])
    # one pitch sounds at most once per group (MIDI cannot represent overlaps)
    df = df.sort_values(["Instrument", "Pitch", "Start"])
    ends = df["Start"] + df["Duration"]
    nxt = df.groupby(["Instrument", "Pitch"])["Start"].shift(-1)
    df = df[~(nxt < ends)]
    p = tmp_path_factory.mktemp("mid") / "s.mid"
    score.write_midi(df, p, tempo=120, resolution=480)
    back = score.read_midi(p)
    a = score.validate(df).sort_values(["Start", "Pitch", "Instrument"]).reset_index(drop=True)
    b = back.sort_values(["Start", "Pitch", "Instrument"]).reset_index(drop=True)
    assert len(a) == len(b)
    if len(a):
        np.testing.assert_allclose(b["Start"], a["Start"], atol=1e-9)
        np.testing.assert_allclose(b["Duration"], a["Duration"], atol=1e-9)
        assert (a["Pitch"] == b["Pitch"]).all() and (a["Instrument"] == b["Instrument"]).all()
        assert (a["Velocity"] == b["Velocity"]).all()


def test_read_dispatch_and_errors(tmp_path):
    df = table([(0, 0.5, 60, 90, "left")])
    score.write_csv(df, tmp_path / "a.csv")
    score.write_midi(df, tmp_path / "a.mid")
    assert score.read(tmp_path / "a.csv")["Pitch"].tolist() == [60]
    assert score.read(str(tmp_path / "a.mid"))["Instrument"].tolist() == ["left"]
    with pytest.raises(ValueError, match=r"\.csv, \.mid"):
        score.read(tmp_path / "a.txt")
    with pytest.raises(FileNotFoundError):
        score.read(tmp_path / "b.mid")
    (tmp_path / "bad.mid").write_bytes(b"not midi")
    with pytest.raises(ValueError, match="not a readable MIDI"):
        score.read_midi(tmp_path / "bad.mid")


def test_read_midi_unnamed_track_and_duration(tmp_path):
    import pretty_midi
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    inst.notes.append(pretty_midi.Note(velocity=100, pitch=60, start=0.0, end=2.0))
    pm.instruments.append(inst)
    pm.write(str(tmp_path / "u.mid"))
    with pytest.warns(UserWarning, match="shortened"):
        df = score.read_midi(tmp_path / "u.mid", duration=1.0)
    assert df["Instrument"].tolist() == ["track 0"]
    assert df["Duration"].tolist() == [1.0]


def test_write_midi_errors(tmp_path):
    df = table([(0, 1, 60, 80, "a")])
    with pytest.raises(ValueError, match="tempo"):
        score.write_midi(df, tmp_path / "x.mid", tempo=0)
    with pytest.raises(ValueError, match="resolution"):
        score.write_midi(df, tmp_path / "x.mid", resolution=0)
    with pytest.raises(ValueError, match="program"):
        score.write_midi(df, tmp_path / "x.mid", program=200)
    with pytest.raises(ValueError, match="groups"):
        score.write_midi(df, tmp_path / "x.mid", groups=["b"])


def test_bundled_scores_read_cleanly():
    from nmfedu import data
    for name in data.names():
        d = data.data_dir() / name
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            df = score.read(d / "score.csv")
        assert set(df["Instrument"]) == {"left", "right"}


def test_validate_accepts_a_table_without_velocity_and_without_group():
    df = pd.DataFrame({"Start": [0.5, 0.0], "Duration": [0.5, 0.5], "Pitch": [71, 55],
                       "Instrument": ["right", "left"]})
    out = score.validate(df)
    assert list(out.columns) == ["Start", "Duration", "Pitch", "Instrument"]
    assert out["Pitch"].tolist() == [55, 71]
    bare = score.validate(df.drop(columns="Instrument"), group=None, sort=False)
    assert bare["Pitch"].tolist() == [71, 55]  # order kept with sort=False
    with pytest.raises(ValueError, match="row 1, column Velocity"):
        score.validate(df.assign(Velocity=[80, -1]))


def test_constraints_use_the_score_validator():
    from nmfedu import constraints

    df = pd.DataFrame({"Start": [0.0, 0.0], "Duration": [0.5, 0.0], "Pitch": [60, 62],
                       "Instrument": ["a", "a"]})
    # the same fault gives the same message from score.validate and constraints.check_notes
    with pytest.raises(ValueError) as direct:
        score.validate(df)
    with pytest.raises(ValueError) as via_constraints:
        constraints.check_notes(df)
    assert str(direct.value) == str(via_constraints.value)
    assert "row 1, column Duration" in str(direct.value)
