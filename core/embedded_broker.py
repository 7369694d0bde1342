"""The embedded broker: kombu's filesystem transport with atomic message files.

kombu's filesystem channel creates a message file under its final name and then writes into it,
while a consumer takes any file with a matching name by moving it away and reading it. A consumer
that lists the folder between the creation and the write reads an empty message (the worker died
with a JSONDecodeError when 30 runs were submitted at once) and the producer's payload is lost.
Here the payload is written under a temporary name the consumers ignore and renamed into place,
so a message file is complete whenever it is visible.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot: consumers match `<anything>.<queue>.msg` after the first dot, which this is not.
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
