"""Validate a parsed protocol TOML document and build a :class:`Protocol`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from nkt_motion.errors import VocabularyError
from nkt_motion.protocols._fields import Table
from nkt_motion.protocols._model import (
    KINEMATIC_SIGNS,
    STEP_KINDS,
    Electrode,
    ImuMount,
    KinematicSign,
    Partner,
    Protocol,
    Rules,
    Step,
    Task,
)
from nkt_motion.vocab import IMU_SITES, MUSCLES, muscle_id, parse_event_label

__all__ = ["SIGN_SITES", "parse_protocol"]

_SLUG: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_TOP_REQUIRED: Final = (
    "name",
    "title",
    "version",
    "summary",
    "tested",
    "partners",
    "side_required",
    "task",
    "electrodes",
    "rules",
    "steps",
)
_TOP_OPTIONAL: Final = ("imu", "kinematic_signs", "sources")
_PELVIS: Final = frozenset({"pelvis", "sacrum"})

#: For each kinematic sign, groups of IMU sites; the protocol must use one
#: site of every group (hip adduction needs the pelvis and a thigh).
SIGN_SITES: Final[dict[str, tuple[frozenset[str], ...]]] = {
    "contralateral_pelvic_drop": (_PELVIS,),
    "hip_hike": (_PELVIS,),
    "trunk_lean": (frozenset({"trunk"}),),
    "hip_adduction": (_PELVIS, frozenset({"thigh_L", "thigh_R"})),
}

#: Which event phase each step kind records (None: no event).
_KIND_PHASE: Final[dict[str, str | None]] = {
    "sensor_check": None,
    "rest": "rest",
    "reference": "ref",
    "pre_test": "pre",
    "correction": "correction",
    "post_test": "post",
}


def _code(table: Table, where: str, value: Any) -> str:
    """Check that ``value`` is a muscle code exactly as the vocabulary spells it."""
    if not isinstance(value, str):
        table.fail(where, f"must be a muscle code (a string), got {value!r}")
    try:
        code = MUSCLES[muscle_id(value)]
    except VocabularyError as exc:
        table.fail(where, str(exc))
    if code != value:
        table.fail(where, f"write the muscle code {code!r}, got {value!r}")
    return code


def _tested(top: Table) -> tuple[str, ...]:
    value = top.data.get("tested")
    if isinstance(value, list):
        if not value:
            top.fail("tested", "must name at least one muscle")
        codes = tuple(_code(top, f"tested[{i}]", v) for i, v in enumerate(value))
    else:
        codes = (_code(top, "tested", value),)
    if len(set(codes)) != len(codes):
        top.fail("tested", f"names a muscle twice: {list(codes)}")
    return codes


def _partners(top: Table, tested: tuple[str, ...]) -> tuple[Partner, ...]:
    tables = top.tables("partners")
    if not tables:
        top.fail("partners", "must list at least one partner muscle")
    partners: list[Partner] = []
    for t in tables:
        t.check_keys(("muscle", "role"))
        code = _code(t, "muscle", t.data["muscle"])
        if code in tested or code in (p.code for p in partners):
            t.fail("muscle", f"{code} is already listed as tested or partner")
        partners.append(Partner(code=code, role=t.text("role")))
    return tuple(partners)


def _task(t: Table) -> Task:
    t.check_keys(
        ("position", "movement", "practitioner", "client", "duration_s", "repetitions", "cues")
    )
    return Task(
        position=t.text("position"),
        movement=t.text("movement"),
        practitioner=t.text("practitioner"),
        client=t.text("client"),
        duration_s=t.number("duration_s", minimum=0.1),
        repetitions=t.integer("repetitions", minimum=1),
        cues=t.texts("cues"),
    )


def _electrodes(top: Table, muscles: tuple[str, ...]) -> tuple[Electrode, ...]:
    table = top.table("electrodes")
    table.check_keys(muscles)
    out = []
    for code in muscles:
        t = table.table(code)
        t.check_keys(("placement", "standard", "source", "orientation", "reference"))
        standard = t.text("standard")
        if standard not in ("SENIAM", "convention"):
            t.fail("standard", f"must be 'SENIAM' or 'convention', got {standard!r}")
        out.append(
            Electrode(
                muscle=code,
                placement=t.text("placement"),
                standard="SENIAM" if standard == "SENIAM" else "convention",
                source=t.text("source"),
                orientation=t.text("orientation"),
                reference=t.text("reference"),
            )
        )
    return tuple(out)


def _imu(top: Table) -> tuple[ImuMount, ...]:
    if "imu" not in top.data:
        return ()
    mounts: list[ImuMount] = []
    for t in top.tables("imu"):
        t.check_keys(("site", "mounting", "purpose"))
        site = t.text("site")
        if site not in IMU_SITES:
            t.fail("site", f"unknown IMU site {site!r}; known sites are {', '.join(IMU_SITES)}")
        if site in (m.site for m in mounts):
            t.fail("site", f"site {site!r} is listed twice")
        mounts.append(ImuMount(site=site, mounting=t.text("mounting"), purpose=t.text("purpose")))
    return tuple(mounts)


def _signs(top: Table, sites: tuple[str, ...]) -> tuple[KinematicSign, ...]:
    if "kinematic_signs" not in top.data:
        return ()
    signs: list[KinematicSign] = []
    for t in top.tables("kinematic_signs"):
        t.check_keys(("sign", "threshold_deg", "source"))
        name = t.text("sign")
        if name not in KINEMATIC_SIGNS:
            t.fail("sign", f"unknown sign {name!r}; known signs are {', '.join(KINEMATIC_SIGNS)}")
        for group in SIGN_SITES[name]:
            if not group & set(sites):
                t.fail("sign", f"{name} needs an IMU at one of {', '.join(sorted(group))}")
        sign = next(s for s in KINEMATIC_SIGNS if s == name)
        threshold = t.number("threshold_deg", minimum=0.0, maximum=90.0)
        signs.append(KinematicSign(sign=sign, threshold_deg=threshold, source=t.text("source")))
    return tuple(signs)


def _rules(t: Table) -> Rules:
    t.check_keys(
        (
            "ratio_change_threshold",
            "onset_margin_ms",
            "kinematic_threshold_deg",
            "min_trials",
            "source",
        )
    )
    return Rules(
        ratio_change_threshold=t.number("ratio_change_threshold", minimum=0.01, maximum=1.0),
        onset_margin_ms=t.number("onset_margin_ms", minimum=0.0, maximum=1000.0),
        kinematic_threshold_deg=t.number("kinematic_threshold_deg", minimum=0.0, maximum=45.0),
        min_trials=t.integer("min_trials", minimum=1),
        source=t.text("source"),
    )


def _event(t: Table, kind: str, tested: tuple[str, ...], muscles: tuple[str, ...]) -> str | None:
    phase = _KIND_PHASE[kind]
    if phase is None:
        if "event" in t.data:
            t.fail("event", f"a {kind} step records no event")
        return None
    text = t.text("event")
    try:
        label = parse_event_label(text)
    except VocabularyError as exc:
        t.fail("event", str(exc))
    if label.label != text:
        t.fail("event", f"write the event label as {label.label!r}, got {text!r}")
    if label.phase != phase:
        t.fail("event", f"a {kind} step records a {phase!r} event, got {text!r}")
    allowed = tested if phase in ("pre", "post") else muscles
    code = None if label.muscle is None else MUSCLES[label.muscle]
    if code is not None and code not in allowed:
        who = "tested muscle" if phase in ("pre", "post") else "protocol muscle"
        t.fail("event", f"{text!r} names {code}, which is not a {who} ({', '.join(allowed)})")
    return text


def _step(t: Table, tested: tuple[str, ...], muscles: tuple[str, ...], rules: Rules) -> Step:
    t.check_keys(("id", "kind", "title", "instruction"), ("event", "n_trials", "duration_s"))
    step_id = t.text("id")
    if not _SLUG.match(step_id):
        t.fail("id", f"must be a lower-case slug (a-z, 0-9, _), got {step_id!r}")
    kind_text = t.text("kind")
    if kind_text not in STEP_KINDS:
        t.fail("kind", f"unknown step kind {kind_text!r}; known kinds are {', '.join(STEP_KINDS)}")
    kind = next(k for k in STEP_KINDS if k == kind_text)
    event = _event(t, kind, tested, muscles)
    n_trials = None
    if kind in ("pre_test", "post_test"):
        n_trials = t.integer("n_trials", minimum=rules.min_trials)
    elif "n_trials" in t.data:
        n_trials = t.integer("n_trials", minimum=1)
    if kind == "rest" and "duration_s" not in t.data:
        t.fail("duration_s", "a rest step needs a duration in seconds")
    duration = t.number("duration_s", minimum=0.1) if "duration_s" in t.data else None
    return Step(step_id, kind, t.text("title"), t.text("instruction"), event, n_trials, duration)


def _check_order(top: Table, steps: tuple[Step, ...], tested: tuple[str, ...]) -> None:
    """Every tested muscle is tested before and after a correction, in that order."""
    ids = [s.id for s in steps]
    for i, step in enumerate(steps):
        if ids.index(step.id) != i:
            top.fail(f"steps[{i}].id", f"step id {step.id!r} is used twice")
    corrections = [i for i, s in enumerate(steps) if s.kind == "correction"]
    if not corrections:
        top.fail("steps", "needs a correction step between the pre and post tests")
    first, last = corrections[0], corrections[-1]
    for code in tested:
        for phase, side in (("pre", "before"), ("post", "after")):
            label = f"{phase}/test/{code}"
            where = [i for i, s in enumerate(steps) if s.event == label]
            if not where:
                top.fail("steps", f"needs a {phase}_test step recording {label!r}")
            bad = [i for i in where if (i > first if phase == "pre" else i < last)]
            if bad:
                top.fail(f"steps[{bad[0]}].event", f"{label!r} must come {side} the correction")


def parse_protocol(
    data: Mapping[str, Any], *, path: Path | None = None, expected_name: str | None = None
) -> Protocol:
    """Validate a parsed protocol document and build the :class:`Protocol`.

    Parameters
    ----------
    data : mapping
        The document as ``tomllib`` returns it.
    path : Path or None
        The file it came from, named in every error.
    expected_name : str or None
        The file stem, which ``name`` must equal.

    Returns
    -------
    Protocol
        The validated protocol.

    Raises
    ------
    ProtocolFileError
        Naming the file and the dotted field at fault.

    Examples
    --------
    >>> parse_protocol({"name": "x"})
    Traceback (most recent call last):
    ...
    nkt_motion.errors.ProtocolFileError: field 'title': required field is missing
    """
    top = Table(data, path)
    top.check_keys(_TOP_REQUIRED, _TOP_OPTIONAL)
    name = top.text("name")
    if not _SLUG.match(name):
        top.fail("name", f"must be a lower-case slug (a-z, 0-9, _), got {name!r}")
    if expected_name is not None and name != expected_name:
        top.fail("name", f"must equal the file name {expected_name!r}, got {name!r}")
    tested = _tested(top)
    partners = _partners(top, tested)
    muscles = (*tested, *(p.code for p in partners))
    imu = _imu(top)
    rules = _rules(top.table("rules"))
    steps = tuple(_step(t, tested, muscles, rules) for t in top.tables("steps"))
    _check_order(top, steps, tested)
    return Protocol(
        name=name,
        title=top.text("title"),
        version=top.text("version"),
        summary=top.text("summary"),
        tested=tested,
        partners=partners,
        side_required=top.flag("side_required"),
        task=_task(top.table("task")),
        electrodes=_electrodes(top, muscles),
        imu=imu,
        kinematic_signs=_signs(top, tuple(m.site for m in imu)),
        rules=rules,
        steps=steps,
        sources=top.texts("sources") if "sources" in top.data else (),
        path=path,
    )
