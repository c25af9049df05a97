"""Purge what the app database holds past its retention now, as the weekly `retention-purge`
Schedule does (activities/retention.py): `python -m scripts.purge`, or `make purge`. With
`--dry-run` it only counts. Settings as the worker's (DATABASE_URL, RETENTION_*)."""

import argparse
from datetime import UTC, datetime

from activities.retention import RetentionPolicy, purge
from database import engine_for
from models.settings import get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="count what would be purged; change nothing")
    dry_run = parser.parse_args(argv).dry_run
    settings = get_settings()
    counts = purge(engine_for(settings), RetentionPolicy.of(settings), datetime.now(UTC), dry_run=dry_run)
    done = "would be purged" if dry_run else "purged"
    for count in counts:
        print(f"{count.table_name}: {count.rows} rows from before {count.before:%Y-%m-%d %H:%M} UTC {done}")


if __name__ == "__main__":
    main()
