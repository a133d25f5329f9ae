"""The layers of docs/architecture.md, enforced from the imports (an AST read
of every module, function-level imports included): a module may import its
own layer or a lower one, never a higher one."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "otgan"

#: lowest first; a unit is a top-level module or package of otgan (otgan.gan
#: and its rooms are one layer)
LAYERS = (
    ("otgan.errors", "otgan.__version__"),
    ("otgan.costs",),
    ("otgan._validation",),
    ("otgan.kernels",),
    ("otgan.geometry",),
    ("otgan.lp",),
    ("otgan.result",),
    ("otgan.api", "otgan.batch", "otgan.sliced"),
    ("otgan.torch", "otgan.compat"),
    ("otgan.gan",),
    ("otgan.cli",),
    ("otgan.theory", "otgan.__main__"),
)
LEVEL = {unit: k for k, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "otgan":
        return None
    if len(parts) == 1:
        return "otgan"
    unit = "otgan." + parts[1]
    # ``from . import solve_ot`` at the top: a name of the package's facade
    return unit if unit in LEVEL or (ROOT / parts[1]).exists() \
        or (ROOT / f"{parts[1]}.py").exists() else "otgan"


def imports_of(path: pathlib.Path):
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    module = ".".join(parts)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
            for name in names:
                yield module, name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield module, alias.name, node.lineno


def test_every_unit_has_a_layer():
    units = {unit_of(".".join(p.relative_to(ROOT.parent).with_suffix("").parts))
             for p in ROOT.rglob("*.py") if p != ROOT / "__init__.py"}
    units.discard("otgan")
    assert units <= set(LEVEL), sorted(units - set(LEVEL))


@pytest.mark.parametrize("path", sorted(ROOT.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_flow_down(path):
    upward = []
    for module, target, line in imports_of(path):
        src, dst = unit_of(module), unit_of(target)
        if src in (None, "otgan") or dst in (None, "otgan") or src == dst:
            continue
        if LEVEL[dst] > LEVEL[src]:
            upward.append(f"{module}:{line} imports {target}")
    assert not upward, upward


def test_the_layer_check_can_fail(tmp_path):
    # an lp module that imports the torch layer is caught
    fake_root = tmp_path / "otgan"
    (fake_root / "lp").mkdir(parents=True)
    (fake_root / "torch.py").write_text("", encoding="utf-8")
    bad = fake_root / "lp" / "raw.py"
    bad.write_text("from ..torch import wasserstein\n", encoding="utf-8")
    globals()["ROOT"] = fake_root
    try:
        with pytest.raises(AssertionError, match="imports otgan.torch"):
            test_imports_flow_down(bad)
    finally:
        globals()["ROOT"] = pathlib.Path(__file__).resolve().parents[1] / "otgan"
