"""The 100-point assessment of the grid workers (量化考核, 百分制, seed 7-2) as data: the named formulas
(what each computes from which raw counts, in words a worker can check), the default plan built from
the seed's three parts (出勤率, 办事绩效, 群众满意度), the validation of a plan the town edits, and the
arithmetic of one worker's month and year. The counts themselves come from the database
(``webmap/services/assessment.py``); nothing here reads SQL.

A plan: ``items`` (each ``{code, name, name_en, points, rule, inputs}``; the rule is a named formula
``{"formula", "params"}``, a deduction ``{"deduct": per_count, "count": name}`` or ``{"hand": true}``),
``annual`` (the weights of the months and of the annual survey, and the survey item), ``bands``
(优秀 / 合格 / 不合格 from a least total), ``bonus_cap`` (加分 by hand, within it and within 100) and
``pay_tiers`` (绩效工资: a total's range → a tier and its amount).

>>> plan = default_plan()
>>> sum(i["points"] for i in plan["items"])
100
>>> validate_plan(plan)
[]
>>> grade_of(plan, 90.0), grade_of(plan, 89.99), grade_of(plan, 59.9)
('优秀', '合格', '不合格')
>>> score_item(item(plan, "reports"), {"reports": 12, "void": 1, "valid": 11})
10.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workflow.staff import GRADES


@dataclass(frozen=True)
class Formula:
    """A named formula: its text (zh, en), its parameters with defaults and (min, max), the inputs it
    reads (the raw counts per worker) and how it computes a share 0–1 of the item's points."""

    name: str
    zh: str
    en: str
    inputs: tuple[str, ...]
    params: dict[str, tuple[float, float, float]]  # name → (default, min, max)
    share: Callable[[dict, dict], float]


def _ratio(a: float, b: float, empty: float) -> float:
    return empty if not b else max(0.0, min(1.0, a / b))


FORMULAS: dict[str, Formula] = {f.name: f for f in (
    Formula("attendance_rate", "得分 = 分值 × 签到天数 ÷ 应出勤天数 (本月工作日, 已批准或已销假的请假日不计)",
            "score = points × days signed in ÷ working days due (approved leave excused)",
            ("due_days", "signed_days", "leave_days"), {},
            lambda x, p: _ratio(x["signed_days"], x["due_days"], 1.0)),
    Formula("report_quota", "得分 = 分值 × min(1, 有效上报数 ÷ 定额); 有效 = 本人本月上报 (网格员上报、巡查上报) 未作废",
            "score = points × min(1, valid reports ÷ quota); valid = own reports of the month not voided",
            ("reports", "void", "valid"), {"quota": (10, 1, 1000)},
            lambda x, p: _ratio(x["valid"], p["quota"], 1.0)),
    Formula("on_time_rate", "得分 = 分值 × 按期办结数 ÷ 本月办结数 (结案时间不晚于期限); 本月无办结得满分",
            "score = points × cases closed by their deadline ÷ cases closed in the month (none: full)",
            ("closed", "on_time"), {},
            lambda x, p: _ratio(x["on_time"], x["closed"], 1.0)),
    Formula("verify_rate", "得分 = 分值 × 经现场核查结案数 ÷ 本月办结数; 本月无办结得满分",
            "score = points × closed cases verified on site ÷ cases closed in the month (none: full)",
            ("closed", "verified"), {},
            lambda x, p: _ratio(x["verified"], x["closed"], 1.0)),
    Formula("patrol_hours", "得分 = 分值 × min(1, 本月巡查时长 (小时) ÷ 目标小时)",
            "score = points × min(1, patrol hours of the month ÷ target hours)",
            ("patrols", "hours"), {"hours": (20, 1, 400)},
            lambda x, p: _ratio(x["hours"], p["hours"], 1.0)),
    Formula("patrol_coverage", "得分 = 分值 × min(1, 巡查平均覆盖率 ÷ 目标覆盖率); 无测得覆盖率的巡查得 0 分",
            "score = points × min(1, mean patrol coverage ÷ target); no measured patrol: 0",
            ("measured", "coverage"), {"target": (0.8, 0.05, 1)},
            lambda x, p: 0.0 if not x["measured"] else _ratio(x["coverage"], p["target"], 0.0)),
    Formula("spot_pass_rate", "得分 = 分值 × 抽查合格项 ÷ 已检查项 (本月一月一抽查); 未抽查或未检查得满分",
            "score = points × spot-check items passed ÷ items checked this month (none checked: full)",
            ("checked", "passed"), {},
            lambda x, p: _ratio(x["passed"], x["checked"], 1.0)),
    Formula("satisfaction_mean", "得分 = 分值 × (回访满意度均值 − 1) ÷ 4 (本月办结案件, 1–5 分); 无回访按无回访得分率",
            "score = points × (mean return-visit satisfaction − 1) ÷ 4 (cases closed this month); "
            "no visit: the no-visit share",
            ("visited", "satisfaction_sum"), {"none_share": (1.0, 0, 1)},
            lambda x, p: p["none_share"] if not x["visited"]
            else max(0.0, min(1.0, (x["satisfaction_sum"] / x["visited"] - 1) / 4))),
    # 日走访 (issue 16): not in the default plan; the town adds it through the plan
    Formula("visit_coverage", "得分 = 分值 × min(1, 本月走访覆盖率 ÷ 目标覆盖率); 覆盖率 = 本月走访过的住户 ÷ 本网格登记住户 "
            "(每户计一次); 网格未登记住户得 0 分",
            "score = points × min(1, this month's visit coverage ÷ target); coverage = households visited this month "
            "÷ households registered in the grid (each once); no household registered: 0",
            ("households", "households_visited"), {"target": (0.8, 0.05, 1)},
            lambda x, p: 0.0 if not x["households"]
            else _ratio(x["households_visited"] / x["households"], p["target"], 0.0)),
)}

# the counts a deduction may name, and their inputs
COUNTS = {
    "void_reports": ("本人本月上报被作废的件数", "own reports of the month voided", ("void",)),
    "late_closed": ("本月超期办结的件数", "cases closed past their deadline this month", ("late",)),
    "absent_days": ("本月缺勤天数 (应出勤未签到)", "working days due without a sign-in", ("absent_days",)),
}


def _item(code, name, name_en, points, rule, inputs):
    return {"code": code, "name": name, "name_en": name_en, "points": points, "rule": rule, "inputs": inputs}


def default_plan() -> dict:
    """The plan shipped (seed 7-2's three parts): 出勤率 30, 办事绩效 50, 群众满意度 20 a month; the year
    weighs the months 80 % and the annual survey (scored by hand) 20 %."""
    items = [
        _item("attendance", "出勤率", "attendance", 30, {"formula": "attendance_rate", "params": {}},
              "签到 (attendance), 请假 (leaves), 工作日历"),
        _item("reports", "上报数量", "reports", 10, {"formula": "report_quota", "params": {"quota": 10}},
              "案件 (incidents: source 网格员/巡查, 上报时间)"),
        _item("void_reports", "上报有效性", "report validity", 5, {"deduct": 1, "count": "void_reports"},
              "案件 (incidents: 作废)"),
        _item("on_time", "按期办结", "closed on time", 10, {"formula": "on_time_rate", "params": {}},
              "案件 (incidents: 结案时间, 期限)"),
        _item("verify", "结案核查", "verification on site", 5, {"formula": "verify_rate", "params": {}},
              "案件流转 (case events: verify_pass / verify_fail)"),
        _item("patrol_hours", "巡查时长", "patrol hours", 6, {"formula": "patrol_hours", "params": {"hours": 20}},
              "巡查 (patrols: duration_s)"),
        _item("patrol_coverage", "巡查覆盖", "patrol coverage", 4,
              {"formula": "patrol_coverage", "params": {"target": 0.8}}, "巡查 (patrols: coverage)"),
        _item("spot_check", "抽查结果", "spot check", 10, {"formula": "spot_pass_rate", "params": {}},
              "一月一抽查 (spot_checks, spot_check_items)"),
        _item("satisfaction", "群众满意度", "satisfaction", 20,
              {"formula": "satisfaction_mean", "params": {"none_share": 1.0}}, "回访 (incidents.satisfaction)"),
    ]
    return {
        "items": items,
        "annual": {"months": 0.8, "survey": 0.2,
                   "survey_item": {"code": "survey", "name": "年度群众满意度测评", "name_en": "annual survey",
                                   "points": 100, "rule": {"hand": True}, "inputs": "测评 (手工评分)"}},
        "bands": [{"grade": "优秀", "min": 90}, {"grade": "合格", "min": 60}, {"grade": "不合格", "min": 0}],
        "bonus_cap": 5,
        "pay_tiers": [{"tier": "一档", "min": 90, "max": 100, "amount": 1500},
                      {"tier": "二档", "min": 75, "max": 90, "amount": 1200},
                      {"tier": "三档", "min": 60, "max": 75, "amount": 800},
                      {"tier": "四档", "min": 0, "max": 60, "amount": 0}],
    }


def item(plan: dict, code: str) -> dict:
    for it in plan["items"]:
        if it["code"] == code:
            return it
    raise KeyError(code)


def _num(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _check_item(it, where: str, errors: list) -> None:
    if not isinstance(it, dict):
        errors.append((where, "考核项应为对象", "an item must be an object"))
        return
    if not isinstance(it.get("code"), str) or not it["code"].strip() or len(it["code"]) > 32:
        errors.append((f"{where}.code", "代码不能为空, 最多 32 字", "the code is 1–32 characters"))
    if not isinstance(it.get("name"), str) or not it["name"].strip():
        errors.append((f"{where}.name", "名称不能为空", "the name is required"))
    points = it.get("points")
    if not _num(points) or points < 0 or points > 100:
        errors.append((f"{where}.points", "分值应为 0–100", "points are 0–100"))
    rule = it.get("rule")
    if not isinstance(rule, dict):
        errors.append((f"{where}.rule", "规则应为对象", "the rule must be an object"))
        return
    if "formula" in rule:
        formula = FORMULAS.get(rule["formula"])
        if formula is None:
            errors.append((f"{where}.rule.formula", f"未知公式 {rule['formula']!r}", f"unknown formula {rule['formula']!r}"))
            return
        params = rule.get("params", {})
        if not isinstance(params, dict):
            errors.append((f"{where}.rule.params", "参数应为对象", "params must be an object"))
            return
        for key, value in params.items():
            if key not in formula.params:
                errors.append((f"{where}.rule.params.{key}", f"公式 {formula.name} 没有参数 {key}",
                               f"formula {formula.name} has no parameter {key}"))
            elif not _num(value) or not formula.params[key][1] <= value <= formula.params[key][2]:
                lo, hi = formula.params[key][1:]
                errors.append((f"{where}.rule.params.{key}", f"参数 {key} 应在 {lo}–{hi} 之间",
                               f"parameter {key} is {lo}–{hi}"))
    elif "deduct" in rule:
        if not _num(rule["deduct"]) or not 0 < rule["deduct"] <= 100:
            errors.append((f"{where}.rule.deduct", "每件扣分应大于 0, 不超过 100", "the deduction per count is 0–100"))
        if rule.get("count") not in COUNTS:
            errors.append((f"{where}.rule.count", f"未知计数 {rule.get('count')!r}, 可选 {', '.join(COUNTS)}",
                           f"unknown count {rule.get('count')!r}: one of {', '.join(COUNTS)}"))
    elif rule.get("hand") is not True:
        errors.append((f"{where}.rule", "规则应为公式、扣分或手工评分", "the rule is a formula, a deduction or by hand"))


def validate_plan(plan) -> list[tuple[str, str, str]]:
    """Every reason the plan is refused, as ``(field, zh, en)``; empty when it is sound."""
    errors: list[tuple[str, str, str]] = []
    if not isinstance(plan, dict):
        return [("body", "考核方案应为 JSON 对象", "the plan must be a JSON object")]
    items = plan.get("items")
    if not isinstance(items, list) or not items:
        errors.append(("items", "考核项不能为空", "the plan needs items"))
        items = []
    for n, it in enumerate(items):
        _check_item(it, f"items[{n}]", errors)
    codes = [it.get("code") for it in items if isinstance(it, dict)]
    if len(set(codes)) != len(codes):
        errors.append(("items", "考核项代码重复", "item codes repeat"))
    if "bonus" in codes:
        errors.append(("items", "代码 bonus 留作加分", "the code bonus is kept for the bonus"))
    total = sum(it["points"] for it in items if isinstance(it, dict) and _num(it.get("points")))
    if items and abs(total - 100) > 1e-9:
        errors.append(("items", f"各项分值合计应为 100 (现为 {total:g})", f"points must sum to 100 (they sum to {total:g})"))
    annual = plan.get("annual")
    if not isinstance(annual, dict):
        errors.append(("annual", "年度权重应为对象", "annual must be an object"))
    else:
        m, s = annual.get("months"), annual.get("survey")
        if not (_num(m) and _num(s) and m >= 0 and s >= 0 and abs(m + s - 1) < 1e-9):
            errors.append(("annual", "月度与年度测评权重应非负且合计为 1", "the months' and the survey's weights are ≥ 0 and sum to 1"))
        survey = annual.get("survey_item")
        _check_item(survey, "annual.survey_item", errors)
        if isinstance(survey, dict) and survey.get("points") != 100:
            errors.append(("annual.survey_item.points", "年度测评按百分制评分 (分值 100)", "the survey is scored of 100"))
    bands = plan.get("bands")
    if not isinstance(bands, list) or [b.get("grade") if isinstance(b, dict) else None for b in bands] != list(GRADES):
        errors.append(("bands", "等次应依次为 优秀、合格、不合格", "the bands are 优秀, 合格, 不合格 in that order"))
    else:
        mins = [b.get("min") for b in bands]
        if not all(_num(v) and 0 <= v <= 100 for v in mins):
            errors.append(("bands", "等次下限应为 0–100", "a band's least total is 0–100"))
        elif not all(a > b for a, b in zip(mins, mins[1:], strict=False)) or mins[-1] != 0:
            errors.append(("bands", "等次下限应由高到低、互不重叠, 不合格从 0 起", "bands descend without overlap, 不合格 from 0"))
    cap = plan.get("bonus_cap")
    if not _num(cap) or not 0 <= cap <= 20:
        errors.append(("bonus_cap", "加分上限应为 0–20", "the bonus cap is 0–20"))
    tiers = plan.get("pay_tiers")
    if not isinstance(tiers, list) or not tiers:
        errors.append(("pay_tiers", "绩效工资档次不能为空", "the pay tiers are required"))
    else:
        ok = True
        for n, t in enumerate(tiers):
            if not (isinstance(t, dict) and isinstance(t.get("tier"), str) and t["tier"].strip()
                    and all(_num(t.get(k)) for k in ("min", "max", "amount"))
                    and 0 <= t["min"] < t["max"] <= 100 and t["amount"] >= 0):
                errors.append((f"pay_tiers[{n}]", "档次应有名称、0 ≤ 下限 < 上限 ≤ 100、金额 ≥ 0",
                               "a tier has a name, 0 ≤ min < max ≤ 100 and an amount ≥ 0"))
                ok = False
        if ok:
            spans = sorted((t["min"], t["max"]) for t in tiers)
            if spans[0][0] != 0 or spans[-1][1] != 100 or any(a[1] != b[0] for a, b in zip(spans, spans[1:], strict=False)):
                errors.append(("pay_tiers", "档次区间应覆盖 0–100, 不重叠不留空", "the tiers cover 0–100 without overlap or gap"))
    return errors


# ---------------------------------------------------------------- one worker's month


def formula_text(it: dict) -> tuple[str, str]:
    """The rule of an item in words (zh, en), with its parameters."""
    rule = it["rule"]
    if "formula" in rule:
        f = FORMULAS[rule["formula"]]
        params = {k: v[0] for k, v in f.params.items()} | rule.get("params", {})
        tail = "; ".join(f"{k} = {v:g}" for k, v in params.items())
        return (f"{f.zh}{'; ' + tail if tail else ''}", f"{f.en}{'; ' + tail if tail else ''}")
    if "deduct" in rule:
        zh, en, _ = COUNTS[rule["count"]]
        return (f"得分 = 分值 − {rule['deduct']:g} × {zh}, 不低于 0", f"score = points − {rule['deduct']:g} × {en}, at least 0")
    return ("手工评分 (须说明理由)", "scored by hand (with a reason)")


def item_inputs(it: dict, raw: dict) -> dict:
    """The raw counts the item reads, picked from the worker's counts."""
    rule = it["rule"]
    if "formula" in rule:
        names = FORMULAS[rule["formula"]].inputs
    elif "deduct" in rule:
        names = COUNTS[rule["count"]][2]
    else:
        names = ()
    return {n: raw.get(n, 0) for n in names}


def score_item(it: dict, raw: dict) -> float | None:
    """The computed score of an item (``None`` for a hand item), rounded to 0.01."""
    rule, points = it["rule"], it["points"]
    if "formula" in rule:
        f = FORMULAS[rule["formula"]]
        params = {k: v[0] for k, v in f.params.items()} | rule.get("params", {})
        return round(points * f.share(item_inputs(it, raw), params), 2)
    if "deduct" in rule:
        count = raw.get(COUNTS[rule["count"]][2][0], 0)
        return round(max(0.0, points - rule["deduct"] * count), 2)
    return None


def grade_of(plan: dict, total: float) -> str:
    for band in plan["bands"]:
        if total >= band["min"]:
            return band["grade"]
    return plan["bands"][-1]["grade"]


def pay_tier(plan: dict, total: float) -> dict:
    """The tier whose range holds the total (``min ≤ total < max``, the top one including 100)."""
    tiers = sorted(plan["pay_tiers"], key=lambda t: t["min"])
    for t in tiers:
        if t["min"] <= total < t["max"] or (t is tiers[-1] and total >= t["min"]):
            return {"tier": t["tier"], "amount": t["amount"]}
    return {"tier": tiers[0]["tier"], "amount": tiers[0]["amount"]}


def month_result(plan: dict, raw: dict, hand: dict[str, dict]) -> dict:
    """One worker's month: the items (computed or set by hand, with their formula and inputs), the
    bonus within the cap and within 100, the total (the items' sum), grade and pay tier. ``hand`` maps
    an item code (or ``bonus``) to ``{score, reason}``."""
    items = []
    for it in plan["items"]:
        zh, en = formula_text(it)
        computed = score_item(it, raw)
        entry = {"code": it["code"], "name": it["name"], "name_en": it.get("name_en"), "points": it["points"],
                 "score": computed if computed is not None else 0.0, "computed": computed,
                 "formula": zh, "formula_en": en, "inputs": item_inputs(it, raw), "hand": None}
        if it["code"] in hand:
            entry["score"] = round(min(max(float(hand[it["code"]]["score"]), 0.0), it["points"]), 2)
            entry["hand"] = hand[it["code"]]
        items.append(entry)
    base = round(sum(i["score"] for i in items), 2)
    if "bonus" in hand:
        asked = float(hand["bonus"]["score"])
        bonus = round(max(0.0, min(asked, plan["bonus_cap"], 100 - base)), 2)
        items.append({"code": "bonus", "name": "加分", "name_en": "bonus", "points": plan["bonus_cap"], "score": bonus,
                      "computed": None, "formula": f"手工加分, 不超过上限 {plan['bonus_cap']:g} 且总分不超过 100",
                      "formula_en": f"bonus by hand, within the cap {plan['bonus_cap']:g} and 100 in all",
                      "inputs": {"asked": asked, "cap": plan["bonus_cap"]}, "hand": hand["bonus"]})
    total = round(sum(i["score"] for i in items), 2)
    return {"total": total, "grade": grade_of(plan, total), "items": items, "pay_tier": pay_tier(plan, total)}


def year_result(plan: dict, months: list[float], survey: float | None, loses_merit: bool) -> dict:
    """A worker's year: the months' mean weighed with the annual survey (without a survey score the
    months alone), the grade; a worker who lost 评优 that year (诫勉谈话) is at best 合格."""
    annual = plan["annual"]
    mean = round(sum(months) / len(months), 2) if months else 0.0
    if survey is None:
        total, how = mean, "月度平均 (尚无年度测评评分)"
    else:
        total = round(annual["months"] * mean + annual["survey"] * survey, 2)
        how = f"{annual['months']:g} × 月度平均 + {annual['survey']:g} × 年度测评"
    grade = grade_of(plan, total)
    why = None
    if loses_merit and grade == GRADES[0]:
        grade, why = GRADES[1], "本年度受诫勉谈话, 不得评为优秀"
    return {"total": total, "grade": grade, "formula": how, "why": why,
            "inputs": {"months": len(months), "month_mean": mean, "survey": survey}, "pay_tier": pay_tier(plan, total)}

