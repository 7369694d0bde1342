"""The embedded broker's message files: a consumer never takes a message before it is written."""

from __future__ import annotations

from queue import Empty

from kombu import Connection

from core.embedded_broker import Transport


def _connection(folder, transport=Transport) -> Connection:
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False,
               "processed_folder": str(folder.parent / "processed")}
    return Connection("filesystem://", transport=transport, transport_options=options)


class _ConsumeWhileEncoding:
    """Part of a message whose encoding (mid-`_put`) lets a consumer look at the queue first."""

    def __init__(self, consumer_channel):
        self.consumer_channel, self.seen = consumer_channel, []

    def __json__(self):
        try:
            self.seen.append(self.consumer_channel._get("work"))
        except Empty:
            self.seen.append(None)
        except Exception as exc:  # the stock transport: an empty file, taken and lost
            self.seen.append(exc)
        return "encoded"


def _put_with_a_consumer_in_the_middle(folder, transport) -> tuple[list, list]:
    with _connection(folder, transport) as producer, _connection(folder, transport) as consumer:
        probe = _ConsumeWhileEncoding(consumer.default_channel)
        producer.default_channel._put("work", {"body": "hello", "probe": probe})
        after = []
        try:
            after.append(consumer.default_channel._get("work"))
        except Empty:
            pass
        return probe.seen, after


def test_a_message_is_invisible_until_written_then_delivered_whole(tmp_path):
    (tmp_path / "queue").mkdir()
    seen, after = _put_with_a_consumer_in_the_middle(tmp_path / "queue", Transport)
    assert seen == [None]  # nothing to take while the producer is still writing
    assert after == [{"body": "hello", "probe": "encoded"}]
    assert [p.name for p in (tmp_path / "queue").iterdir()] == []  # no partial file left behind


def test_kombus_own_filesystem_transport_loses_that_message(tmp_path):
    """Why the embedded broker has its own channel (this is the crash `orchestra dev` met)."""
    (tmp_path / "queue").mkdir()
    seen, after = _put_with_a_consumer_in_the_middle(tmp_path / "queue", "filesystem")
    assert seen != [None] and after == []
