"""The layers of docs/architecture.md, enforced from the imports (an AST read
of every module, function-level imports included): a module may import its
own layer or a lower one, never a higher one; no import cycle between otgan's
units or between the rooms of otgan.gan, which have their own order; no
private name imported from another package."""
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


# --- no import cycle: between otgan's units, and between the rooms of otgan.gan ---

#: otgan.gan's rooms, lowest first (docs/architecture.md, "Inside otgan/gan"):
#: a room may import its own level or a lower one. The package's facade
#: (``otgan/gan/__init__.py``) resolves its names lazily and is above them all.
GAN_ROOMS = (
    ("otgan.gan.files", "otgan.gan.parallel"),
    ("otgan.gan.data",),
    ("otgan.gan.nets", "otgan.gan.losses"),
    ("otgan.gan.methods",),
    ("otgan.gan.addons",),
    ("otgan.gan.evaluation",),
    ("otgan.gan.training",),
)
GAN_LEVEL = {room: k for k, rooms in enumerate(GAN_ROOMS) for room in rooms}


def room_of(module: str) -> str | None:
    """``otgan.gan.<room>`` for a module inside otgan.gan; ``otgan.gan`` for
    the package's facade and the names it offers (``from .. import Trainer``)."""
    parts = module.split(".")
    if parts[:2] != ["otgan", "gan"]:
        return None
    if len(parts) == 2 or not ((ROOT / "gan" / parts[2]).is_dir()
                               or (ROOT / "gan" / f"{parts[2]}.py").exists()):
        return "otgan.gan"
    return ".".join(parts[:3])


def import_graph(root: pathlib.Path, node_of) -> dict[str, set[str]]:
    """``node -> nodes it imports`` over every module under ``root`` (an AST
    read: function-level and ``TYPE_CHECKING`` imports count too)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(root.rglob("*.py")):
        for module, target, _ in imports_of(path):
            src, dst = node_of(module), node_of(target)
            if src is not None and dst is not None and src != dst:
                graph.setdefault(src, set()).add(dst)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan),
    each sorted: every import cycle lies inside one of them."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(set(graph) | {w for ws in graph.values() for w in ws}):
        if v not in index:
            visit(v)
    return sorted(found)


def test_cycles_are_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"b"}}) == []


def test_no_cycle_between_otgan_units():
    # ``otgan`` (the package's facade) is a node too: a unit that imports a
    # name of the facade while the facade imports that unit is a cycle
    assert cycles(import_graph(ROOT, unit_of)) == []


def test_no_cycle_between_gan_rooms():
    graph = import_graph(ROOT / "gan", room_of)
    assert cycles(graph) == []
    # and the rooms have the declared order: every room is placed, none imports up
    rooms = set(graph) | {r for rs in graph.values() for r in rs}
    level = {**GAN_LEVEL, "otgan.gan": len(GAN_ROOMS)}  # the facade is above every room
    assert rooms <= set(level), sorted(rooms - set(level))
    upward = sorted(f"{src} imports {dst}" for src, dsts in graph.items() for dst in dsts
                    if level[dst] > level[src])
    assert not upward, upward
    # the check reads every room (a renamed one would silently drop out)
    assert set(GAN_LEVEL) <= rooms


def module_of(module: str) -> str | None:
    """The module or package of otgan that ``module`` names (a name imported
    from a package's facade maps to that package)."""
    parts = module.split(".")
    while parts and parts[0] == "otgan":
        path = ROOT.parent.joinpath(*parts)
        if path.is_dir() or path.with_suffix(".py").exists():
            return ".".join(parts)
        parts = parts[:-1]
    return None


def test_no_cycle_between_modules():
    # finer than the rooms and units: between any two modules of otgan (the
    # checkpoint and the trainer once imported each other, the checkpoint for
    # typing only; lp's memory check once read the method names from the
    # registry, which imports it)
    assert cycles(import_graph(ROOT, module_of)) == []


def test_the_room_check_can_fail(tmp_path):
    # a method that imports the trainer (typing-only, inside a function) is
    # a cycle with training, which runs the methods
    fake = tmp_path / "otgan" / "gan"
    (fake / "methods").mkdir(parents=True)
    (fake / "training").mkdir()
    (fake / "methods" / "__init__.py").write_text("", encoding="utf-8")
    (fake / "training" / "__init__.py").write_text("", encoding="utf-8")
    (fake / "training" / "trainer.py").write_text("from ..methods import METHODS\n",
                                                   encoding="utf-8")
    (fake / "methods" / "wgan.py").write_text(
        "def step():\n    from ..training.trainer import Trainer\n", encoding="utf-8")
    globals()["ROOT"] = tmp_path / "otgan"
    try:
        graph = import_graph(tmp_path / "otgan" / "gan", room_of)
    finally:
        globals()["ROOT"] = pathlib.Path(__file__).resolve().parents[1] / "otgan"
    assert cycles(graph) == [["otgan.gan.methods", "otgan.gan.training"]]


# --- no private name imported across packages ---

def package_of(module: str, path: pathlib.Path) -> str:
    """The package a module belongs to (a package's ``__init__`` belongs to itself)."""
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def private_imports(root: pathlib.Path) -> list[str]:
    """``from X import _y`` where ``X`` is an otgan module outside the importing
    module's own package (a private module such as ``otgan._validation`` may
    be imported; a private *name* of another package may not)."""
    bad = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.parts[-1] == "__init__" else rel.parts)
        own = package_of(module, path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = own.split(".")[:len(own.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "otgan":
                continue
            home = source if (root.parent / source.replace(".", "/")).is_dir() \
                else source.rpartition(".")[0]
            for alias in node.names:
                name = alias.name
                if not name.startswith("_") or name.startswith("__"):
                    continue
                if (root.parent / source.replace(".", "/") / f"{name}.py").exists():
                    continue  # a (private) module, not a private name
                if home != own:
                    bad.append(f"{module}:{node.lineno} imports {name} from {source}")
    return bad


def test_no_private_name_imported_across_packages():
    assert private_imports(ROOT) == []


def test_the_private_check_can_fail(tmp_path):
    root = tmp_path / "otgan"
    (root / "lp").mkdir(parents=True)
    (root / "lp" / "__init__.py").write_text("", encoding="utf-8")
    (root / "lp" / "simplex.py").write_text("def _pivot(): pass\n", encoding="utf-8")
    (root / "lp" / "assignment.py").write_text("from .simplex import _pivot\n",
                                               encoding="utf-8")  # same package: fine
    (root / "_validation.py").write_text("", encoding="utf-8")
    (root / "batch.py").write_text("from .lp.simplex import _pivot\n"
                                   "from . import _validation\n", encoding="utf-8")
    assert private_imports(root) == ["otgan.batch:1 imports _pivot from otgan.lp.simplex"]
