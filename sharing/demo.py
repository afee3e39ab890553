"""French demonstration data (filled in by the demo seed work)."""


def seed() -> str:
    return "nothing to seed yet"
