"""Broken `.inp` input: an InpError naming file, line, section and field — never a traceback, never a model."""

from __future__ import annotations

import random

import pytest
from _inp_epanet import NETWORK_FILES

from runze.network.errors import InpError, InpErrors
from runze.network.inp import parse_inp, read_inp

GOOD = """[JUNCTIONS]
J1 10 1
J2 12 2
[RESERVOIRS]
R1 60
[PIPES]
P1 R1 J1 100 200 120
P2 J1 J2 100 200 120
[PUMPS]
[CURVES]
C1 10 40
[OPTIONS]
Units LPS
"""


def _error(text: str, name: str = "net.inp") -> InpError:
    with pytest.raises(InpError) as info:
        parse_inp(text, name)
    return info.value


def _file(name: str):
    return next(p for p in NETWORK_FILES if p.name == name)


def test_good_text_reads():
    assert parse_inp(GOOD, "net.inp").n_links == 2


def test_wntr_bad_syntax_names_the_unknown_section():
    err = _error(_file("bad_syntax.inp").read_text(), "bad_syntax.inp")
    assert (err.path, err.line, err.field) == ("bad_syntax.inp", 330, "section")
    assert "[FOO]" in str(err) and "[JUNCTIONS]" in str(err)


def test_wntr_bad_values_names_the_unknown_node():
    with pytest.raises(InpError) as info:
        read_inp(_file("bad_values.inp"))
    err = info.value
    assert err.path.endswith("bad_values.inp")
    assert (err.line, err.section, err.field) == (56, "PIPES", "Node1")
    assert "node1" in str(err)


def test_unknown_node_in_a_pipe():
    err = _error(GOOD.replace("P2 J1 J2", "P2 J1 J9"))
    assert (err.line, err.section, err.field) == (8, "PIPES", "Node2")
    assert "'J9'" in err.message and err.expected


def test_missing_curve():
    err = _error(GOOD.replace("[PUMPS]", "[PUMPS]\nPU1 R1 J2 HEAD C7"))
    assert (err.section, err.field) == ("PUMPS", "HEAD") and "C7" in err.message


def test_pump_without_curve_or_power():
    err = _error(GOOD.replace("[PUMPS]", "[PUMPS]\nPU1 R1 J2 SPEED 1"))
    assert err.section == "PUMPS" and "neither a head curve nor a power" in err.message


def test_negative_diameter():
    err = _error(GOOD.replace("P1 R1 J1 100 200", "P1 R1 J1 100 -200"))
    assert (err.line, err.section, err.field) == (7, "PIPES", "Diameter")
    assert err.expected == "a number > 0"


def test_not_a_number_and_duplicate_id():
    err = _error(GOOD.replace("J2 12 2", "J2 twelve 2"))
    assert (err.line, err.field) == (3, "Elev") and "'twelve'" in err.message
    err = _error(GOOD.replace("J2 12 2", "J1 12 2"))
    assert err.field == "ID" and "duplicate" in err.message


def test_wrong_section_name():
    err = _error(GOOD.replace("[PIPES]", "[PIPE]"))
    assert err.line == 6 and "unknown section [PIPE]" in err.message


def test_tank_levels_out_of_order():
    err = _error(GOOD.replace("[PIPES]", "[TANKS]\nT1 10 5 2 1 10\n[PIPES]"))
    assert err.section == "TANKS" and "MinLevel <= InitLevel <= MaxLevel" in str(err)


def test_several_errors_are_reported_together():
    text = GOOD.replace("J2 12 2", "J2 x 2").replace("P1 R1 J1 100 200", "P1 R1 J1 100 -1").replace(
        "Units LPS", "Units LITRES")
    with pytest.raises(InpErrors) as info:
        parse_inp(text, "net.inp")
    errs = info.value.errors
    assert {e.field for e in errs} >= {"Elev", "Diameter", "Units"}
    assert all(e.line for e in errs)
    assert str(info.value).startswith(f"{len(errs)} problem(s)")


def test_truncated_file(tmp_path):
    text = _file("Net3.inp").read_text()
    cut = text.index("[PIPES]") + 2000  # cut in the middle of a pipe line
    path = tmp_path / "truncated.inp"
    path.write_text(text[:cut])
    with pytest.raises(InpError) as info:
        read_inp(path)
    errors = getattr(info.value, "errors", [info.value])
    cut_line = text[:cut].count("\n") + 1
    assert any((e.section, e.line, e.field) == ("PIPES", cut_line, "line") for e in errors)
    # the patterns defined after the cut are missing too, and each is named
    assert any(e.section == "JUNCTIONS" and e.field == "Pattern" for e in errors)


def test_empty_and_sourceless_files():
    assert "no nodes" in _error("").message
    assert "no reservoir or tank" in _error("[JUNCTIONS]\nJ1 1\n[OPTIONS]\nUnits LPS\n").message


def test_gbk_file_with_an_error_shows_the_chinese_id(tmp_path):
    path = tmp_path / "gbk.inp"
    path.write_bytes(GOOD.replace("P2 J1 J2", "P2 J1 二水厂").encode("gbk"))
    with pytest.raises(InpError) as info:
        read_inp(path)
    assert "二水厂" in str(info.value) and info.value.field == "Node2"


def test_missing_file_is_an_inp_error(tmp_path):
    with pytest.raises(InpError) as info:
        read_inp(tmp_path / "nope.inp")
    assert "nope.inp" in str(info.value)


@pytest.mark.parametrize("name", ["Net1.inp", "Net3.inp", "io.inp"])
def test_fuzzed_files_give_a_network_or_an_inp_error_never_a_traceback(name):
    """Truncate at random offsets and corrupt random tokens: only Network or InpError may come out."""
    text = _file(name).read_text()
    lines = text.splitlines()
    rnd = random.Random(20260101)
    junk = ["abc", "-5", "[X]", "1e999", "nan", ";", '"', "0", "*", "12:00:00:00", "PM", "一"]
    outcomes = {"network": 0, "error": 0}
    for trial in range(150):
        if trial % 2:
            mutated = list(lines)
            for _ in range(3):
                i = rnd.randrange(len(mutated))
                tokens = mutated[i].split()
                if tokens:
                    tokens[rnd.randrange(len(tokens))] = rnd.choice(junk)
                    mutated[i] = " ".join(tokens)
            candidate = "\n".join(mutated)
        else:
            candidate = text[: rnd.randrange(len(text))]
        try:
            parse_inp(candidate, name)
            outcomes["network"] += 1
        except InpError as exc:
            assert str(exc)
            outcomes["error"] += 1
    assert outcomes["error"] > 20 and outcomes["network"] > 0
