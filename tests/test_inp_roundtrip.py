"""Read → write → EPANET 2.3 gives the same heads and flows as the original file, for every WNTR network.

Every `.inp` WNTR ships (library/networks and tests/networks_for_testing) is read by Runze, written back to a
temporary file, and both files are run through EPANET 2.3; node heads and link flows must agree by id at
every reporting time (up to the file's duration, capped at one week: Net6_plus runs 300 h otherwise).  The files EPANET itself rejects are listed with the reason (and a test checks that
EPANET does reject them, so the skip stays honest).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _inp_epanet import NETWORK_FILES, EpanetRejects, simulate

from runze.network.errors import InpError
from runze.network.inp import read_inp, write_inp

# file -> why it is not compared (checked below: EPANET rejects them, and Runze raises InpError)
EPANET_REJECTS = {
    "bad_syntax.inp": "EPANET error 299: invalid section keyword [FOO]",
    "bad_values.inp": "EPANET error 203: undefined node node1 in [PIPES]",
}
# files EPANET runs but Runze refuses on purpose
RUNZE_REJECTS = {
    "bad_times.inp": "Pattern Start '0:00:00:00' has four clock fields; EPANET silently ignores the fourth, "
                     "Runze reports the malformed time",
}


def _params():
    for path in NETWORK_FILES:
        reason = EPANET_REJECTS.get(path.name) or RUNZE_REJECTS.get(path.name)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        yield pytest.param(path, id=path.name, marks=marks)


def test_the_network_list_is_complete():
    assert len(NETWORK_FILES) >= 37
    assert {"Net1.inp", "Net3.inp", "Net6.inp", "Net6_plus.inp", "ky10.inp"} <= {p.name for p in NETWORK_FILES}


@pytest.mark.parametrize("path", list(_params()))
def test_rewritten_file_gives_epanet_the_same_heads_and_flows(path, tmp_path):
    net = read_inp(path)
    out = tmp_path / path.name
    write_inp(net, out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EPANET warnings (negative pressures ...) are the network's own
        ids_a, links_a, heads_a, flows_a, times_a = simulate(path)
        ids_b, links_b, heads_b, flows_b, times_b = simulate(out)
    assert times_a == times_b
    assert ids_a == ids_b and links_a == links_b  # same ids in the same order
    assert heads_a.shape == (len(times_a), len(ids_a))
    np.testing.assert_allclose(heads_b, heads_a, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(flows_b, flows_a, rtol=1e-6, atol=1e-6)
    # the model holds what EPANET ran: same element counts
    assert net.n_nodes == len(ids_a) and net.n_links == len(links_a)


@pytest.mark.parametrize("name", sorted(EPANET_REJECTS))
def test_skipped_files_are_rejected_by_epanet_and_by_runze(name):
    path = next(p for p in NETWORK_FILES if p.name == name)
    with pytest.raises(EpanetRejects):
        simulate(path)
    with pytest.raises(InpError):
        read_inp(path)


def test_bad_times_is_refused_with_the_line_and_field():
    path = next(p for p in NETWORK_FILES if p.name == "bad_times.inp")
    with pytest.raises(InpError) as info:
        read_inp(path)
    assert info.value.section == "TIMES" and info.value.field == "Pattern Start"
    assert info.value.line is not None and "0:00:00:00" in str(info.value)


@pytest.mark.parametrize("name", ["Net1.inp", "io.inp", "Anytown.inp"])
def test_any_file_runze_accepts_is_written_so_that_epanet_opens_it(name, tmp_path):
    """Corrupt random tokens; whenever Runze accepts the result, EPANET must accept what Runze writes."""
    import random

    from _inp_epanet import close_project, open_project

    from runze.network.inp import format_inp, parse_inp

    lines = next(p for p in NETWORK_FILES if p.name == name).read_text().splitlines()
    rnd = random.Random(99)
    junk = ["abc", "-5", "0", "*", "PM", "一", "0.0001", "-0.5", "CLOSED", "OPEN", "1e-300", "3:99", '"']
    accepted = 0
    for _ in range(60):
        mutated = list(lines)
        for _ in range(2):
            i = rnd.randrange(len(mutated))
            tokens = mutated[i].split()
            if tokens and tokens[0][0] not in ";[":
                tokens[rnd.randrange(len(tokens))] = rnd.choice(junk)
                mutated[i] = " ".join(tokens)
        try:
            net = parse_inp("\n".join(mutated), name)
        except InpError:
            continue
        accepted += 1
        out = tmp_path / "w.inp"
        out.write_text(format_inp(net), encoding="utf-8")
        close_project(open_project(out))  # raises EpanetRejects if EPANET refuses the file
    assert accepted >= 10
