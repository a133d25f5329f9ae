"""TrainConfig in sections (issue #23): each method and add-on declares its own
fields, the sections partition the fields, config.json is written in
sections, and the flat configurations saved before still load."""
import dataclasses
import json

import pytest

from otgan.gan.addons import ADDONS
from otgan.gan.methods import METHODS, register
from otgan.gan.methods.wgan_gp import WGANGP
from otgan.gan.training.config import (RUNTIME_FIELDS, SECTIONS, TrainConfig,
                                       omitted_at_default)

#: A config.json as written before the sections, the add-ons, the methods'
#: own fields, eval_every and gen_noise existed (flat, keys sorted).
OLD_FLAT_JSON = """{
  "batch": 64,
  "beta1": 0.5,
  "beta2": 0.999,
  "ckpt_every": 500,
  "clip": 0.01,
  "data": "ring",
  "depth": 3,
  "device": "auto",
  "eval_n": 2500,
  "gp_lambda": 10.0,
  "hidden": 256,
  "iters": 2000,
  "log_every": 10,
  "lr_d": 0.001,
  "lr_decay": "linear",
  "lr_g": 0.001,
  "method": "wgan-ts",
  "metric": "l1",
  "n_critic": 1,
  "n_r": 5,
  "ot_reg": 10.0,
  "p": null,
  "scaling": "final",
  "seed": 0,
  "z_dim": 2
}"""

#: The same run as written now: config.json in sections.
SECTIONED_JSON = """{
  "run": {"method": "wgan-ts", "data": "ring", "iters": 2000, "batch": 64, "seed": 0},
  "cost": {"metric": "l1"},
  "networks": {"z_dim": 2, "hidden": 256, "depth": 3},
  "optimiser": {"lr_g": 0.001, "lr_d": 0.001, "beta1": 0.5, "beta2": 0.999,
                "lr_decay": "linear"},
  "steps": {"n_critic": 1, "n_r": 5, "ot_reg": 10.0, "scaling": "final", "gp_lambda": 10.0,
            "clip": 0.01, "gen_noise": "fresh"},
  "addons": {"jc": false, "lens": false, "pack2": false, "pack4": false},
  "runtime": {"device": "auto", "log_every": 10, "ckpt_every": 500, "eval_n": 2500,
              "eval_every": 100}
}"""

FIELDS = tuple(TrainConfig.__dataclass_fields__)


def test_an_old_flat_config_json_loads_as_the_run_it_was():
    old = json.loads(OLD_FLAT_JSON)
    cfg = TrainConfig.from_dict(old)
    # every field added since takes the value that keeps the old trajectory
    assert cfg.gen_noise == "fresh" and cfg.addons == () and cfg.eval_every == 100
    assert cfg.ae_steps is None and cfg.xicfg_t is None
    # the flat dict (checkpoints, histories) is the old one plus gen_noise
    assert cfg.to_dict() == dict(old, gen_noise="fresh")
    # and the same run written in sections is the same configuration
    assert TrainConfig.from_dict(json.loads(SECTIONED_JSON)) == cfg
    assert json.loads(cfg.to_json()) == json.loads(SECTIONED_JSON)


def test_an_old_full_flat_dict_loads_too():
    # a flat dict with every field (to_dict(full=True), e.g. a compare record)
    cfg = TrainConfig(method="rfgan", data="ring", iters=3, jc=True)
    full = cfg.to_dict(full=True)
    assert set(full) == set(FIELDS)
    assert TrainConfig.from_dict(full) == cfg


@pytest.mark.parametrize("kw", [
    dict(method="wgan-ts", data="ring", iters=7, metric="lp", p=3.0),
    dict(method="rfgan", data="grid", ae_steps=40),
    dict(method="xicfg", data="ring", xicfg_t=3),
    dict(method="wgan-gp", data="ring", jc=True, lens=True, lens_k=5, eval_every=3),
    dict(method="ot", data="ring", device="cpu", batch=16),
])
def test_the_sectioned_layout_round_trips(kw):
    cfg = TrainConfig(**kw)
    d = json.loads(cfg.to_json())
    assert list(d) == [s for s in SECTIONS if s in d]  # in the order of SECTIONS
    for section, part in d.items():
        assert all(TrainConfig.section_of(k) == section for k in part)
        assert all(v is not None for v in part.values())  # what does not apply is left out
    assert TrainConfig.from_dict(d) == cfg
    full = cfg.to_dict(sectioned=True, full=True)
    assert list(full) == list(SECTIONS) and TrainConfig.from_dict(full) == cfg
    # only the chosen method's own fields are written
    own = d.get("method_options", {})
    assert set(own) == set(METHODS[cfg.method].options)


def test_sections_partition_the_fields():
    assert not set(SECTIONS) & set(FIELDS)  # a layout is told apart by its keys
    by_section = [TrainConfig.section_fields(s) for s in SECTIONS]
    assert sorted(n for names in by_section for n in names) == sorted(FIELDS)
    assert all(by_section)  # no empty section
    assert TrainConfig.section_fields("run") == ("method", "data", "iters", "batch", "seed")
    assert RUNTIME_FIELDS == ("device", "log_every", "ckpt_every", "eval_n", "eval_every")
    cfg = TrainConfig(method="wgan-gp", iters=5)
    assert cfg.section("steps")["n_critic"] == 5 and cfg.section("cost") == {
        "metric": "l1", "p": None}
    with pytest.raises(ValueError, match="section must be one of .*'optimizer'"):
        cfg.section("optimizer")
    with pytest.raises(ValueError, match="unknown config field 'lr'"):
        TrainConfig.section_of("lr")


def test_the_registries_declare_what_is_left_out_at_default():
    method_options = {o for cls in METHODS.values() for o in cls.options}
    addon_fields = {o for n, a in ADDONS.items() for o in (n, *a.options)}
    assert method_options == set(TrainConfig.section_fields("method_options"))
    assert addon_fields == set(TrainConfig.section_fields("addons"))
    assert omitted_at_default() == method_options | addon_fields | {"eval_every"}
    # eval_every is the one field declared as added later
    later = [n for n, f in TrainConfig.__dataclass_fields__.items() if f.metadata["added_later"]]
    assert later == ["eval_every"]


def test_a_method_declaring_an_unknown_field_is_refused():
    class Odd(WGANGP):
        name = "odd-options"
        options = ("gp_lambda",)  # a shared field, not one of the method's own section

    register(Odd)
    try:
        with pytest.raises(TypeError, match="Method.options declares gp_lambda"):
            TrainConfig(method="odd-options")
    finally:
        del METHODS["odd-options"]


@pytest.mark.parametrize("bad, match", [
    ({"run": {"method": "gan", "lr_g": 0.1}},
     r"section 'run' holds field\(s\) of another section: lr_g \(section 'optimiser'\)"),
    ({"run": {"methd": "gan"}}, r"unknown config field\(s\) in section 'run': methd"),
    ({"run": ["gan"]}, "config section 'run' must be a dict, got list"),
    ({"run": {"method": "gan"}, "iters": 3}, "mixed with flat fields"),
])
def test_malformed_sectioned_configs_are_refused_by_name(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TrainConfig.from_dict(bad)


def test_a_sectioned_config_without_gen_noise_takes_the_method_default():
    # the legacy "fresh" is for flat dicts only (saved before gen_noise existed)
    d = json.loads(SECTIONED_JSON)
    del d["steps"]["gen_noise"]
    assert TrainConfig.from_dict(d).gen_noise == "same"
    flat = json.loads(OLD_FLAT_JSON)
    assert TrainConfig.from_dict(flat).gen_noise == "fresh"


def test_the_config_json_shown_in_the_docs_is_what_is_written():
    import pathlib
    import re

    doc = (pathlib.Path(__file__).resolve().parents[3] / "docs" / "gan.md").read_text()
    part = doc[doc.index("### The configuration in sections"):]
    shown = json.loads(re.search(r"```json\n(.*?)```", part, re.S).group(1))
    assert shown == TrainConfig(method="rfgan").to_dict(sectioned=True)


def test_defaults_depend_on_the_kind_of_data_and_saved_configs_keep_theirs():
    # issue #25: each method's reference settings per kind of data
    gp_flat, gp_img = TrainConfig(method="wgan-gp", data="ring"), TrainConfig(
        method="wgan-gp", data="digits")
    assert (gp_flat.gp_lambda, gp_flat.hidden, gp_flat.lr_decay) == (0.1, 512, "none")
    assert (gp_img.gp_lambda, gp_img.hidden, gp_img.lr_decay) == (10.0, 128, "none")
    # explicit values win over the reference
    assert TrainConfig(method="wgan-gp", gp_lambda=10.0, hidden=256).gp_lambda == 10.0
    # a saved config is explicit: it loads as it was, whatever today's defaults
    old = json.loads(OLD_FLAT_JSON)
    cfg = TrainConfig.from_dict(old)
    assert (cfg.lr_g, cfg.lr_decay, cfg.gp_lambda) == (0.001, "linear", 10.0)
    # a hand-written flat dict without them takes the fixed values of before
    legacy = TrainConfig.from_dict({"method": "wgan-gp", "data": "ring"})
    assert (legacy.lr_decay, legacy.gp_lambda, legacy.clip, legacy.hidden) == (
        "linear", 10.0, 0.01, 256)
    # the sectioned layout is newer: a missing field takes today's default
    assert TrainConfig.from_dict({"run": {"method": "wgan-gp"}}).gp_lambda == 0.1


def test_method_defaults_for_a_kind_are_checked():
    gp = METHODS["wgan-gp"]
    with pytest.raises(ValueError, match="kind must be one of \\('flat', 'image'\\), got '3d'"):
        gp.defaults_for("3d")
    assert METHODS["gan"].defaults_for("image") is METHODS["gan"].defaults
    with pytest.raises(ValueError, match="lr_decay must be one of"):
        dataclasses.replace(gp.defaults, lr_decay="cosine")
    with pytest.raises(ValueError, match="hidden must be None or an integer >= 1, got 0"):
        dataclasses.replace(gp.defaults, hidden=0)

    class Mixed(WGANGP):
        name = "mixed-optimisers"
        image_defaults = dataclasses.replace(WGANGP.defaults, optimizer="rmsprop")

    with pytest.raises(TypeError, match="the optimiser is the method's"):
        register(Mixed)
    assert "mixed-optimisers" not in METHODS
