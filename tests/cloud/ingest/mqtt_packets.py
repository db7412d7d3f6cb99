"""Hand-made MQTT 3.1.1 packets and a socket that serves them, for the client tests."""

from __future__ import annotations


def publish_packet(
    topic: str, payload: bytes, *, qos: int = 1, mid: int = 1, retain: bool = False
) -> bytes:
    body = len(topic.encode()).to_bytes(2, "big") + topic.encode()
    if qos:
        body += mid.to_bytes(2, "big")
    body += payload
    return bytes([0x30 | qos << 1 | int(retain)]) + remaining_length(len(body)) + body


def remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (128 if n else 0))
        if not n:
            return bytes(out)


class Chunks:
    """A socket whose recv returns prepared chunks, then would block.

    By default a chunk must fit the read (the fast path reads big); with
    `split`, a read smaller than the chunk takes its head, as paho's do.
    """

    def __init__(self, *chunks: bytes, split: bool = False) -> None:
        self.chunks = list(chunks)
        self.split = split

    def recv(self, size: int) -> bytes:
        if not self.chunks:
            raise BlockingIOError
        chunk = self.chunks.pop(0)
        if self.split and len(chunk) > size:
            self.chunks.insert(0, chunk[size:])
            return chunk[:size]
        assert len(chunk) <= size
        return chunk

    def send(self, data: bytes | bytearray) -> int:
        return len(data)

    def close(self) -> None: ...
    def fileno(self) -> int:
        return -1

    def setblocking(self, flag: bool) -> None: ...
