"""Message loss of kombu's filesystem transport under concurrent producers and consumers.

    python bench/embedded_broker_race.py [--messages N]

Three producer processes put N messages each on one queue while two consumers take them, first
with kombu's stock filesystem transport, then with the embedded broker's (`core.embedded_broker`).
Prints, for each, how many messages arrived and how many a consumer read empty (those are lost: the
producer writes into a file the consumer has already moved away and deleted). A step task message
lost this way left the Celery executor's run worker waiting for ever on a step that never started.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
from queue import Empty

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _channel(transport: str | None, folder: str):
    from kombu import Connection

    options = {"data_folder_in": folder, "data_folder_out": folder, "store_processed": False}
    return Connection("filesystem://", transport=transport, transport_options=options).default_channel


def _produce(transport, folder, first, count):
    channel = _channel(transport, folder)
    for n in range(first, first + count):
        channel._put("steps", {"n": n})


def _consume(transport, folder, done, results):
    channel = _channel(transport, folder)
    received = unreadable = 0
    while True:
        try:
            channel._get("steps")
            received += 1
        except Empty:
            if done.is_set():
                try:
                    channel._get("steps")
                    received += 1
                    continue
                except Empty:
                    break
        except ValueError:  # an empty or partial message file
            unreadable += 1
    results.put((received, unreadable))


def measure(transport: str | None, count: int) -> tuple[int, int, int]:
    folder = tempfile.mkdtemp(prefix="broker-race-")
    try:
        done, results = mp.Event(), mp.Queue()
        consumers = [mp.Process(target=_consume, args=(transport, folder, done, results)) for _ in range(2)]
        producers = [mp.Process(target=_produce, args=(transport, folder, k * count, count)) for k in range(3)]
        for process in consumers + producers:
            process.start()
        for process in producers:
            process.join()
        done.set()
        counts = [results.get() for _ in consumers]
        for process in consumers:
            process.join()
        return 3 * count, sum(c[0] for c in counts), sum(c[1] for c in counts)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="messages per producer")
    args = parser.parse_args()
    for label, transport in (("kombu filesystem", None), ("embedded broker", "core.embedded_broker:Transport")):
        sent, received, unreadable = measure(transport, args.messages)
        print(f"{label:>17}: sent {sent}, received {received}, unreadable (lost) {unreadable}")


if __name__ == "__main__":
    main()
