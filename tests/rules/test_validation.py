"""Validation messages, exactly as a course author sees them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from questline.rules import (
    MAX_CRITERIA_BYTES,
    OperatorRegistry,
    Problem,
    RuleLoadError,
    default_catalog,
    load_rules,
    validate_command_lines,
    validate_document,
    validate_paths,
)

BASE = {"slug": "some-rule", "type": "STREAK", "title": "Some rule", "points": 10}


def messages(raw: Any, **kw: Any) -> list[str]:
    return [str(p) for p in validate_document(raw, "rules/streaks.json", **kw)]


def with_criteria(criteria: Any) -> dict[str, Any]:
    return {**BASE, "criteria": criteria}


def test_problem_str_is_source_pointer_message() -> None:
    p = Problem("rules/a.json", "/points", "must be at least 0")
    assert str(p) == "rules/a.json: /points: must be at least 0"
    assert str(Problem("rules/a.json", "", "file is empty")) == "rules/a.json: file is empty"


def test_valid_rule_has_no_problems() -> None:
    assert messages(with_criteria({">=": [{"var": "streak.current"}, 3]})) == []


def test_unknown_fact_with_suggestion() -> None:
    criteria = {"and": [{">=": [{"var": "stats.points"}, 1]}, {"var": "streak.curent"}]}
    assert messages(with_criteria(criteria)) == [
        'rules/streaks.json: /criteria/and/1/var: unknown fact "streak.curent" '
        '(did you mean "streak.current"?)'
    ]


def test_unknown_fact_without_suggestion() -> None:
    assert messages(with_criteria({"var": "zzz.qqq"})) == [
        'rules/streaks.json: /criteria/var: unknown fact "zzz.qqq"'
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({**BASE, "points": -1}, "/points: must be at least 0"),
        ({**BASE, "points": "10"}, "/points: must be a whole number"),
        ({**BASE, "streak_freezes": -1}, "/streak_freezes: must be at least 0"),
        ({**BASE, "streak_freezes": 101}, "/streak_freezes: must be at most 100"),
        ({**BASE, "streak_freezes": 1.5}, "/streak_freezes: must be a whole number"),
        (
            {**BASE, "slug": "Ten Lessons"},
            "/slug: must be lowercase letters and digits, words "
            'separated by single dashes, e.g. "ten-lessons"',
        ),
        ({**BASE, "slug": "a" * 101}, "/slug: must be at most 100 characters"),
        ({**BASE, "title": "t" * 201}, "/title: must be at most 200 characters"),
        ({**BASE, "title": ""}, "/title: must not be empty"),
        ({**BASE, "icon": "i" * 101}, "/icon: must be at most 100 characters"),
        ({**BASE, "description": 5}, "/description: must be text, not a number"),
        ({**BASE, "enabled": "yes"}, "/enabled: must be true or false"),
        (
            {**BASE, "type": "STREAKS"},
            "/type: must be one of LESSON_COMPLETED, MODULE_COMPLETED, "
            "STREAK, CHALLENGES_SOLVED, MILESTONE",
        ),
        (
            {**BASE, "examples": [{"facts": {}, "expect": True, "expected_progress": 0.2}]},
            '/examples/0/expected_progress: unknown field "expected_progress" '
            "(allowed: name, facts, expect, progress)",
        ),
        ({**BASE, "examples": "x"}, "/examples: must be a list of examples"),
        (
            {**BASE, "examples": [{"facts": {}, "expect": False, "progress": "0.2"}]},
            "/examples/0/progress: must be a number",
        ),
        (
            {**BASE, "colour": "red"},
            '/colour: unknown field "colour" (allowed: slug, type, title, '
            "description, language, icon, points, streak_freezes, criteria, enabled, examples)",
        ),
    ],
)
def test_schema_errors(raw: dict[str, Any], expected: str) -> None:
    raw = {"criteria": True, **raw}
    assert messages(raw) == [f"rules/streaks.json: {expected}"]


def test_missing_fields() -> None:
    assert messages({"slug": "x"}) == [
        "rules/streaks.json: /type: required field is missing",
        "rules/streaks.json: /title: required field is missing",
        "rules/streaks.json: /points: required field is missing",
        "rules/streaks.json: /criteria: required field is missing",
    ]


def test_not_an_object() -> None:
    assert messages([1]) == ["rules/streaks.json: expected a rule (an object), got a list"]


def test_unknown_operator_with_suggestion() -> None:
    assert messages(with_criteria({"and": [True, {"flor": [1.5]}]})) == [
        'rules/streaks.json: /criteria/and/1: unknown operator "flor" (did you mean "floor"?)'
    ]


def test_an_operator_named_as_other_rule_languages_do_is_spelled_for_jsonlogic() -> None:
    facts = [{"var": "stats.logins"}, 3]
    assert messages(with_criteria({"and": [{"gte": facts}, {"NEQ": facts}]})) == [
        'rules/streaks.json: /criteria/and/0: unknown operator "gte" (did you mean ">="?)',
        'rules/streaks.json: /criteria/and/1: unknown operator "NEQ" (did you mean "!="?)',
    ]


def test_an_operator_in_capitals_is_spelled_in_lower_case() -> None:
    assert messages(with_criteria({"AND": [True, {"Max": [1, 2]}]})) == [
        'rules/streaks.json: /criteria: unknown operator "AND" (did you mean "and"?)',
        'rules/streaks.json: /criteria/AND/1: unknown operator "Max" (did you mean "max"?)',
    ]


def test_unknown_operator_is_not_passed_through() -> None:
    assert messages(with_criteria({"qwxz": []})) == [
        'rules/streaks.json: /criteria: unknown operator "qwxz"'
    ]


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        (
            {"==": [{"var": "stats.logins"}, 3, 5]},
            '/criteria/==: "==" compares 2 values, not 3; to compare with several values write '
            '{"in": [{"var": "stats.logins"}, [3, 5]]}',
        ),
        (
            {"and": [{">=": [{"var": "stats.points"}, 10, 20]}]},
            '/criteria/and/0/>=: ">=" compares 2 values, not 3; for a value between two others '
            'write {"<=": [low, value, high]}',
        ),
        (
            {"<": [1, {"var": "stats.points"}, 20, 30]},
            '/criteria/<: "<" compares 2 values, or a value between 2 others; not 4',
        ),
        (
            {"!": [{"var": "stats.points"}, 2, 3]},
            '/criteria: "!" reads 0 to 1 argument; the other 2 arguments are never evaluated',
        ),
    ],
)
def test_a_comparison_of_more_values_than_it_takes_is_an_error(
    criteria: dict[str, Any], message: str
) -> None:
    """The backend chains comparisons ({"==": [x, 3, 5]} never holds) and ignores what "!"
    does not read: each is a mistake the docs call an error."""
    assert messages(with_criteria(criteria)) == [f"rules/streaks.json: {message}"]


def test_a_value_between_two_others_is_a_comparison_of_three() -> None:
    assert messages(with_criteria({"<=": [1, {"var": "stats.points"}, 20]})) == []


def test_argument_count() -> None:
    assert messages(with_criteria({"map": [1]})) == [
        'rules/streaks.json: /criteria: "map" takes exactly 2 arguments, not 1'
    ]


def test_multi_key_object() -> None:
    assert messages(with_criteria({"a": 1, "b": 2})) == [
        "rules/streaks.json: /criteria: an object with several keys is not an operator call; "
        'write one operator per object, e.g. {"and": [...]}'
    ]


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        (
            {">=": [{"var": "stats.points"}, "100"]},
            '/criteria/>=/1: compares number fact "stats.points" with text "100"; '
            "write it as a number: 100",
        ),
        (
            {"<": ["ten", {"var": "stats.points"}]},
            '/criteria/</0: compares number fact "stats.points" with text "ten"',
        ),
        (
            {">=": [{"var": "stats.points"}, "1e3"]},  # YAML reads 1e3 unquoted as text
            '/criteria/>=/1: compares number fact "stats.points" with text "1e3"; '
            "write it as a number: 1000",
        ),
        (
            {"==": [{"var": "stats.points"}, "2.5e30"]},
            '/criteria/==/1: compares number fact "stats.points" with text "2.5e30"; '
            "write it as a number: 2.5e+30",
        ),
        (
            {">=": [{"var": "event.type"}, "LOGIN"]},
            '/criteria/>=/1: ">=" on text fact "event.type" compares text, not numbers; '
            'use "==" or "!=" with text, or compare a number fact',
        ),
        (
            {"==": [{"var": "event.type"}, "LESSON_COMPLETE"]},
            '/criteria/==/1: "event.type" is never "LESSON_COMPLETE" (did you mean '
            '"LESSON_COMPLETED"?); it is one of LESSON_STARTED, LESSON_COMPLETED, '
            "CHALLENGE_ATTEMPTED, CHALLENGE_SOLVED, ACHIEVEMENT_EARNED, LOGIN",
        ),
        (
            {"==": [{"var": "event.local_hour"}, 24]},
            '/criteria/==/1: "event.local_hour" is between 0 and 23; it is never 24',
        ),
        (
            {"==": [{"var": "leaderboard.last_week_rank"}, 0]},
            '/criteria/==/1: "leaderboard.last_week_rank" is at least 1; it is never 0',
        ),
        (
            {"==": [{"var": "module.completed"}, 1]},
            '/criteria/==/1: compares true/false fact "module.completed" with a number',
        ),
        (
            {"==": [{"var": "lesson.title"}, 3]},
            '/criteria/==/1: compares text fact "lesson.title" with a number',
        ),
    ],
)
def test_static_type_mismatches(criteria: Any, expected: str) -> None:
    assert messages(with_criteria(criteria)) == [f"rules/streaks.json: {expected}"]


def test_nullable_fact_compared_with_null_is_fine() -> None:
    assert messages(with_criteria({"==": [{"var": "lesson.score"}, None]})) == []


def test_computed_read_is_rejected() -> None:
    assert messages(with_criteria({"var": {"cat": ["stats.", "points"]}})) == [
        "rules/streaks.json: /criteria/var: the fact name must be a literal string: a computed "
        "name can't be checked, and questline can't tell which events may change this rule"
    ]


def test_namespace_is_not_a_fact() -> None:
    assert messages(with_criteria({"var": "streak"})) == [
        'rules/streaks.json: /criteria/var: "streak" is a group of facts, not a fact; '
        'read one of them, e.g. "streak.current"'
    ]


def test_missing_operator_names_are_checked() -> None:
    assert messages(with_criteria({"missing": ["stats.points", "stats.pointz"]})) == [
        'rules/streaks.json: /criteria/missing/1: unknown fact "stats.pointz" '
        '(did you mean "stats.points"?)'
    ]


def test_iterated_items_are_not_facts() -> None:
    criteria = {"some": [{"var": "stats.points"}, {"==": [{"var": ""}, 1]}]}
    assert messages(with_criteria(criteria)) == []


def test_size_limit() -> None:
    criteria = {"in": ["x", "y" * MAX_CRITERIA_BYTES]}
    size = len(json.dumps(criteria, separators=(",", ":")))
    assert messages(with_criteria(criteria)) == [
        f"rules/streaks.json: /criteria: criteria are {size} bytes of JSON; "
        f"the limit is {MAX_CRITERIA_BYTES} bytes"
    ]


def test_depth_limit() -> None:
    criteria: Any = True
    for _ in range(33):
        criteria = {"!!": [criteria]}
    assert messages(with_criteria(criteria)) == [
        "rules/streaks.json: /criteria: criteria nest deeper than the limit of 32 levels"
    ]


def test_list_prefix_pointer() -> None:
    problems = validate_document(
        with_criteria({"var": "streak.curent"}), "rules/streaks.json", prefix="/2"
    )
    assert [p.pointer for p in problems] == ["/2/criteria/var"]


def test_custom_operator_validates_and_unknown_still_rejected() -> None:
    ops = OperatorRegistry()
    ops.register("clamp", lambda v, lo, hi: max(lo, min(hi, v)))
    ok = with_criteria({">=": [{"clamp": [{"var": "event.score"}, 0, 100]}, 50]})
    assert messages(ok, operators=ops) == []
    assert messages(ok) == ['rules/streaks.json: /criteria/>=/0: unknown operator "clamp"']
    assert messages(with_criteria({"clmp": [1, 0, 2]}), operators=ops) == [
        'rules/streaks.json: /criteria: unknown operator "clmp" (did you mean "clamp"?)'
    ]


def test_plugin_fact_validates() -> None:
    from questline.rules import FactSpec, FactType

    catalog = default_catalog()
    catalog.register(FactSpec("quiz.perfect_runs", FactType.INT, "Perfect quiz runs.", {"LOGIN"}))
    ok = with_criteria({">=": [{"var": "quiz.perfect_runs"}, 3]})
    assert messages(ok, catalog=catalog) == []
    assert messages(ok)[0].endswith('unknown fact "quiz.perfect_runs"')


# -- files ---------------------------------------------------------------------------------


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def rule(slug: str, criteria: Any = True) -> dict[str, Any]:
    return {**BASE, "slug": slug, "criteria": criteria}


def test_folder_of_json_and_yaml(tmp_path: Path) -> None:
    write(tmp_path / "a.json", rule("a"))
    write(tmp_path / "b.json", [rule("b1"), rule("b2")])
    write(
        tmp_path / "sub" / "c.yaml",
        "slug: c\ntype: MILESTONE\ntitle: C\npoints: 5\n"
        "criteria: {'>=': [{var: stats.points}, 100]}\n",
    )
    write(tmp_path / "d.yml", "- " + json.dumps(rule("d")))
    write(tmp_path / "notes.txt", "ignored")
    report = validate_paths(tmp_path)
    assert report.problems == []
    assert [r.slug for r in report.rules] == ["a", "b1", "b2", "d", "c"]
    assert [r.slug for r in load_rules(tmp_path)] == ["a", "b1", "b2", "d", "c"]


def test_broken_json_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.json", '{\n  "slug": "x",\n  "type": "STREAK"\n  "title": 1\n}')
    lines, code = validate_command_lines([path])
    assert code == 1
    assert lines[0] == (
        f"{path.as_posix()}: invalid JSON at line 4, column 3: Expecting ',' delimiter"
    )


def test_broken_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.yaml", "slug: x\ntype: [STREAK\ntitle: y\n")
    [problem] = validate_paths(path).problems
    assert problem.source == path.as_posix()
    assert problem.message == "invalid YAML at line 3, column 6: expected ',' or ']', but got ':'"


def test_duplicate_json_keys_are_refused(tmp_path: Path) -> None:
    """A repeated key would silently drop a condition: `{">=": …, ">=": …}` keeps the last."""
    path = write(
        tmp_path / "dup.json",
        '{"slug": "x", "type": "STREAK", "title": "t", "points": 1,'
        ' "criteria": {">=": [{"var": "streak.current"}, 3],'
        ' ">=": [{"var": "streak.longest"}, 7]}}',
    )
    lines, code = validate_command_lines([path])
    assert code == 1
    assert lines[0] == f'{path.as_posix()}: invalid JSON: duplicate key ">=" in an object'


def test_duplicate_yaml_keys_are_refused_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path / "dup.yaml", "slug: x\ntype: STREAK\ntitle: a\ntitle: b\npoints: 1\n")
    [problem] = validate_paths(path).problems
    assert problem.message == 'invalid YAML at line 4, column 1: duplicate key "title"'


def test_a_yaml_date_is_text_as_in_json(tmp_path: Path) -> None:
    """`2026-12-31` unquoted is the text JSON would hold (PyYAML makes it a date, which
    crashed validation); a value JSON has no type for is refused where it stands."""
    path = write(
        tmp_path / "dates.yaml",
        "- slug: new-year\n  type: MILESTONE\n  title: 2026-01-01\n  points: 1\n"
        "  criteria: {'==': [{var: event.local_date}, 2026-12-31]}\n"
        "  examples: [{name: eve, facts: {event: {local_date: 2026-12-31}}, expect: true}]\n",
    )
    report = validate_paths(path)
    assert report.problems == []
    [document] = report.rules
    assert document.title == "2026-01-01"
    assert document.criteria == {"==": [{"var": "event.local_date"}, "2026-12-31"]}
    tagged = write(
        tmp_path / "tagged.yaml",
        "slug: x\ntype: MILESTONE\ntitle: T\npoints: 1\n"
        "criteria: {'==': [{var: event.local_date}, !!timestamp 2026-12-31]}\n",
    )
    assert [str(p) for p in validate_paths(tagged).problems] == [
        f"{tagged.as_posix()}: /criteria/==/1: a date is not a JSON value; write it as text"
    ]
    unreadable = write(tmp_path / "unreadable.yaml", "slug: x\ntitle: !!timestamp soon\n")
    [problem] = validate_paths(unreadable).problems  # was a traceback
    assert problem.message == (
        "invalid YAML at line 2, column 8: !!timestamp cannot read the value 'soon'"
    )


def test_yaml_rule_errors_have_pointers(tmp_path: Path) -> None:
    path = write(
        tmp_path / "r.yaml",
        "- slug: ok\n  type: STREAK\n  title: T\n  points: -3\n  criteria: {var: streak.curent}\n",
    )
    assert [str(p) for p in validate_paths(path).problems] == [
        f"{path.as_posix()}: /0/points: must be at least 0",
        f'{path.as_posix()}: /0/criteria/var: unknown fact "streak.curent" '
        '(did you mean "streak.current"?)',
    ]


def test_file_with_an_error_contributes_nothing(tmp_path: Path) -> None:
    write(tmp_path / "a.json", [rule("good"), {**rule("bad"), "points": -1}])
    write(tmp_path / "b.json", rule("fine"))
    report = validate_paths(tmp_path)
    assert [r.slug for r in report.rules] == ["fine"]
    assert [str(p) for p in report.problems] == [
        f"{(tmp_path / 'a.json').as_posix()}: /1/points: must be at least 0"
    ]
    with pytest.raises(RuleLoadError) as info:
        load_rules(tmp_path)
    assert info.value.problems == report.problems


def test_duplicate_slugs_across_files(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", rule("same"))
    b = write(tmp_path / "b.json", [rule("other"), rule("same")])
    report = validate_paths(tmp_path)
    assert [str(p) for p in report.problems] == [
        f'{b.as_posix()}: /1/slug: duplicate slug "same" (already defined in {a.as_posix()})'
    ]
    assert [r.slug for r in report.rules] == ["same"]


def test_duplicate_slugs_in_one_file(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", [rule("same"), rule("same")])
    assert [str(p) for p in validate_paths(a).problems] == [
        f'{a.as_posix()}: /1/slug: duplicate slug "same" (also used at /0)'
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty.json", "  \n", "file is empty; expected a rule or a list of rules"),
        ("scalar.json", "42", "expected a rule (an object) or a list of rules, got a number"),
        ("rule.txt", "{}", 'unsupported file type ".txt"; use .json, .yaml or .yml'),
    ],
)
def test_bad_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = write(tmp_path / name, text)
    assert [str(p) for p in validate_paths(path).problems] == [f"{path.as_posix()}: {message}"]


def test_missing_path(tmp_path: Path) -> None:
    lines, code = validate_command_lines([tmp_path / "nope.json"])
    assert code == 1
    assert lines == [
        f"{tmp_path / 'nope.json'}: no such file or folder",
        "1 error in 0 files; no rules were changed",
    ]


def test_command_lines_ok(tmp_path: Path) -> None:
    write(tmp_path / "a.json", [rule("a"), rule("b")])
    assert validate_command_lines([tmp_path]) == (["2 rules OK in 1 file"], 0)


def test_command_lines_count_the_files_with_errors(tmp_path: Path) -> None:
    write(tmp_path / "a.json", [rule("a")])
    write(tmp_path / "b.json", [rule("Bad Slug"), rule("c", {"frobnicate": [1]})])
    lines, code = validate_command_lines([tmp_path])
    assert code == 1 and lines[-1] == "2 errors in 1 of 2 files; no rules were changed"


def test_default_catalog_rules_validate() -> None:
    from questline.rules.loading import CATALOG_DIR

    lines, code = validate_command_lines([CATALOG_DIR])
    assert code == 0, lines
