"""The method names: one table, canonical names that say what they are, and
every earlier name still accepted, with the same answer, at every entry point."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import otgan
from otgan import compat
from otgan import torch as ott
from otgan.cli import main
from otgan.lp import SOLVERS, canonical_method, check_method
from otgan.lp.registry import (ALIASES, METHOD_NAMES, METHOD_TABLE, RESULT_LABELS,
                               select_solver, solver_of)
from otgan.lp import LinearProblem
from otgan.geometry import DenseCost

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: the names callers used before the canonical names existed
OLD_NAMES = {"emd": "network-simplex", "lp": "dual-lp", "fast": "candidate-graph"}
#: short names of newer methods
SHORT_NAMES = {"1d": "one-dimensional"}
#: (alias, canonical) pairs
PAIRS = sorted(ALIASES.items())


def _same(r1, r2):
    """Two results of one problem solved by the same solver: the same answer."""
    assert r1.method == r2.method and r1.value == r2.value
    np.testing.assert_array_equal(r1.plan, r2.plan)
    np.testing.assert_array_equal(r1.u, r2.u)
    np.testing.assert_array_equal(r1.v, r2.v)


def test_the_table():
    # every earlier name is an alias, and only those and the short names
    assert ALIASES == {**OLD_NAMES, **SHORT_NAMES}
    assert set(METHOD_NAMES) == set(METHOD_TABLE) | set(ALIASES)
    assert not set(ALIASES) & set(METHOD_TABLE)  # an alias never shadows a name
    assert set(SOLVERS) == set(METHOD_TABLE) - {"auto"}
    for name, (aliases, what) in METHOD_TABLE.items():
        assert what and all(canonical_method(alias) == name for alias in aliases)
        assert canonical_method(name.upper()) == name
    # every label a solver writes into a result names a registered solver
    assert set(RESULT_LABELS.values()) <= set(SOLVERS)
    assert check_method("EMD") == "network-simplex"


def test_unknown_and_non_string_methods_are_named():
    with pytest.raises(ValueError, match=re.escape(
            f"unknown method 'simplex'; expected one of {METHOD_NAMES}")):
        canonical_method("simplex")
    with pytest.raises(TypeError, match="method must be a string, got 3"):
        canonical_method(3)
    with pytest.raises(ValueError, match="unknown method 'simplex'"):
        otgan.solve_ot(np.eye(2), method="simplex")


def test_solvers_are_found_by_alias():
    for alias, name in PAIRS:
        assert SOLVERS[alias] is SOLVERS[name] and SOLVERS[name].name == name
        assert alias in SOLVERS
    assert "auto" not in SOLVERS and "simplex" not in SOLVERS
    with pytest.raises(KeyError):
        SOLVERS["auto"]


@pytest.mark.parametrize("alias, name", PAIRS)
def test_alias_gives_the_canonical_answer_in_solve_ot_and_solve_samples(alias, name, rng):
    y, x = rng.random((12, 3)), rng.random((12, 3))
    a = rng.dirichlet(np.ones(12))
    for args in ((None, None), (a, None)):  # an assignment, and a transportation problem
        _same(otgan.solve_samples(y, x, *args, method=alias),
              otgan.solve_samples(y, x, *args, method=name))
        M = rng.random((7, 5))
        _same(otgan.solve_ot(M, method=alias.upper()), otgan.solve_ot(M, method=name))


@pytest.mark.parametrize("alias, name", PAIRS)
def test_alias_gives_the_canonical_answer_in_the_batch_api(alias, name, rng):
    Ms = [rng.random((4, 4)), rng.random((3, 6))]
    for r1, r2 in zip(otgan.solve_ot_batch(Ms, method=alias),
                      otgan.solve_ot_batch(Ms, method=name)):
        _same(r1, r2)
    Y, X = rng.random((3, 5, 2)), rng.random((3, 5, 2))
    for r1, r2 in zip(otgan.solve_samples_batch(Y, X, method=alias),
                      otgan.solve_samples_batch(Y, X, method=name)):
        _same(r1, r2)


@pytest.mark.parametrize("alias, name", PAIRS)
def test_alias_gives_the_canonical_answer_in_compat_and_torch(alias, name, rng):
    M = rng.random((6, 4))
    a, b = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(4))
    G1, log1 = compat.emd(a, b, M, log=True, method=alias)
    G2, log2 = compat.emd(a, b, M, log=True, method=name)
    np.testing.assert_array_equal(G1, G2)
    assert log1["method"] == log2["method"] and log1["cost"] == log2["cost"]
    assert compat.emd2(a, b, M, numItermax=10**6, method=alias) == \
        compat.emd2(a, b, M, numItermax=10**6, method=name)
    y, x = torch.rand(5, 2, dtype=torch.float64), torch.rand(5, 2, dtype=torch.float64)
    assert ott.wasserstein(y, x, method=alias).item() == \
        ott.wasserstein(y, x, method=name).item()
    Mt = torch.tensor(M)
    assert ott.wasserstein_from_costs(Mt, method=alias).item() == \
        ott.wasserstein_from_costs(Mt, method=name).item()
    t1, t2 = ott.ot_targets(y, x, method=alias), ott.ot_targets(y, x, method=name)
    assert torch.equal(t1.real, t2.real) and torch.equal(t1.fake, t2.fake)


@pytest.mark.parametrize("alias, name", PAIRS)
def test_alias_gives_the_canonical_answer_on_the_command_line(alias, name, tmp_path, rng,
                                                              capsys):
    np.save(tmp_path / "y.npy", rng.random((9, 2)))
    np.save(tmp_path / "x.npy", rng.random((7, 2)))
    out = []
    for method in (alias, name):
        assert main(["distance", str(tmp_path / "y.npy"), str(tmp_path / "x.npy"), "--json",
                     "--method", method]) == 0
        out.append(json.loads(capsys.readouterr().out))
    assert out[0]["wasserstein"] == out[1]["wasserstein"]
    assert out[0]["method"] == out[1]["method"]


def test_results_keep_their_labels_and_name_their_solver(rng):
    M = rng.random((5, 5))
    w = rng.dirichlet(np.ones(5))
    r = otgan.solve_ot(M, method="emd")
    assert (r.method, r.solver) == ("emd", "network-simplex")
    r = otgan.solve_ot(M, method="fast")  # an assignment
    assert (r.method, r.solver) == ("fast", "sparse-assignment")
    r = otgan.solve_ot(M, w, None, method="candidate-graph")  # a transportation problem
    assert (r.method, r.solver) == ("fast-transport", "sparse-transport")
    assert solver_of("fast-fallback") == "sparse-assignment"


def test_the_two_candidate_graph_solvers_by_name(rng):
    M = rng.random((6, 6))
    w = rng.dirichlet(np.ones(6))
    # the transportation solver on an assignment problem: its own answer, same value
    r_t = otgan.solve_ot(M, method="sparse-transport")
    r_a = otgan.solve_ot(M, method="sparse-assignment")
    assert (r_t.method, r_a.method) == ("fast-transport", "fast")
    assert abs(r_t.value - r_a.value) <= 1e-12
    # the assignment solver does not take general weights: handed to the network simplex
    assert otgan.solve_ot(M, w, None, method="sparse-assignment").method == "emd"
    # ... and solves uniform m != n by replication
    r = otgan.solve_ot(rng.random((4, 6)), method="sparse-assignment")
    assert r.method == "fast-replicated" and r.is_optimal
    # the three share one option set: a transport option is accepted by the assignment
    assert otgan.solve_ot(M, method="sparse-assignment", sparse_solver="ssp").is_optimal
    p = LinearProblem(DenseCost(M), w)
    assert select_solver(p, "fast").name == "candidate-graph"
    assert select_solver(p).name == "network-simplex"  # auto: small, general weights


def test_docs_list_every_name():
    text = (DOCS / "api.md").read_text()
    for name in METHOD_NAMES:
        assert f"`\"{name}\"`" in text, name
