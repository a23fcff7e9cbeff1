"""Turn a captured stream into stored text: whole lines, progress-bar redraws collapsed, credentials masked.

A progress bar redraws its line with carriage returns ("\\r 10%", "\\r 20%", ...); only what the line
finally showed is kept. ANSI colour sequences are kept as they are. Text is handed on a line at a time,
so a credential split across two writes is still masked whole.
"""

from __future__ import annotations

import codecs
import threading

from runyard.redact import mask_secrets

# A line without its newline is held back at most this long (then handed on as it is, collapsed).
MAX_HELD_CHARS = 65_536


def collapse_line(line: str) -> str:
    """What a terminal finally shows of one line: the text after its last carriage return."""
    body = line.rstrip("\r")
    if "\r" in body:
        body = body.rpartition("\r")[2]
    return body


def collapse_lines(text: str) -> str:
    """Every line of text (newline-separated) collapsed as collapse_line does; newlines kept."""
    if "\r" not in text:
        return text
    return "\n".join(collapse_line(line) for line in text.split("\n"))


class StreamText:
    """Bytes or str of one stream in, complete lines out (collapsed and masked); thread-safe."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""
        self._lock = threading.Lock()

    def feed_bytes(self, data: bytes) -> str:
        """Decode data and return the lines it completes ("" when none)."""
        with self._lock:
            return self._take(self._decoder.decode(data))

    def feed_text(self, text: str) -> str:
        """Add text and return the lines it completes ("" when none)."""
        with self._lock:
            return self._take(text)

    def finish(self) -> str:
        """Whatever is held back (a last line without its newline), collapsed and masked."""
        with self._lock:
            rest = self._held + self._decoder.decode(b"", final=True)
            self._held = ""
        return mask_secrets(collapse_line(rest)) if rest else ""

    def _take(self, text: str) -> str:
        if not text:
            return ""
        held = self._held + text
        head, newline, tail = held.rpartition("\n")
        if not newline:
            if len(held) <= MAX_HELD_CHARS:
                self._held = held
                return ""
            self._held = ""
            return mask_secrets(collapse_line(held)) + "\n"
        self._held = tail
        return mask_secrets(collapse_lines(head + "\n"))
