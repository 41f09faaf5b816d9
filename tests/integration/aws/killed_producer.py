"""A producer process for the kill -9 test: submits events to one sink, says so on stdout, then waits to be killed.

python killed_producer.py URI JOURNAL_DIR EVENTS DURABILITY
"""

import asyncio
import sys
from pathlib import Path

from aws_feeds import produce
from prometheus_client import CollectorRegistry

from orchestrator.sinks import DeliverySettings, Durability, SinkFanout

WAIT_TO_BE_KILLED_S = 300.0


async def main(uri: str, journal_dir: Path, count: int, durability: Durability) -> None:
    settings = DeliverySettings(journal_dir=journal_dir, dead_letter_path=journal_dir / "dead.jsonl",
                                durability=durability)  # fmt: skip
    async with SinkFanout.from_uris([uri], settings, registry=CollectorRegistry()) as fanout:
        for record in produce(count):
            fanout.submit(record)
        print(f"submitted {count}", flush=True)
        await asyncio.sleep(WAIT_TO_BE_KILLED_S)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), Durability(sys.argv[4])))
