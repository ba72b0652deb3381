"""Python metrics used by the tests (referenced by dotted path)."""


def forty_two() -> int:
    return 42


def not_a_number() -> str:
    return "lots"
