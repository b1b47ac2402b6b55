"""Find the line of a key path such as `groups[2].node` in TOML text.

tomllib keeps no positions, so after a successful parse we scan the text once more for headers
and `key =` lines; a key that is missing falls back to the line of the table that lacks it.
"""

from __future__ import annotations

import json

from config.reader import KeyPath, format_key

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def find_line(text: str, key: KeyPath) -> int | None:
    """The 1-based line defining `key`, else its nearest enclosing table, else None."""
    index = _index(text)
    for length in range(len(key), 0, -1):
        line = index.get(format_key(key[:length]))
        if line is not None:
            return line
    return None


def _index(text: str) -> dict[str, int]:
    index: dict[str, int] = {}
    table: KeyPath = ()
    array_counts: dict[KeyPath, int] = {}  # array-of-tables path -> index of its last element
    depth, open_string = 0, ""
    for number, line in enumerate(text.splitlines(), 1):
        if open_string or depth:
            depth, open_string = _scan(line, depth, open_string)
            continue
        stripped = line.strip()
        if stripped.startswith("["):
            is_array = stripped.startswith("[[")
            names, _ = _read_key(stripped[2 if is_array else 1 :])
            if not names:
                continue
            table = _concrete(names, array_counts)
            if is_array:
                array_counts[table] = array_counts.get(table, -1) + 1
                table = (*table, array_counts[table])
            _record(index, table, number)
            continue
        names, rest = _read_key(stripped)
        rest = rest.lstrip()
        if names and rest.startswith("="):
            _record(index, table + tuple(names), number)
            depth, open_string = _scan(rest[1:], 0, "")
    return index


def _concrete(names: list[str], array_counts: dict[KeyPath, int]) -> KeyPath:
    """Header names with the current index inserted after each array of tables they cross."""
    path: KeyPath = ()
    for name in names[:-1]:
        path = (*path, name)
        if path in array_counts:
            path = (*path, array_counts[path])
    return (*path, names[-1])


def _record(index: dict[str, int], path: KeyPath, line: int) -> None:
    for length in range(1, len(path) + 1):
        index.setdefault(format_key(path[:length]), line)


def _read_key(text: str) -> tuple[list[str], str]:
    """Split a dotted key (bare or quoted parts) off the start of `text`."""
    names: list[str] = []
    position = 0
    while True:
        while position < len(text) and text[position] in " \t":
            position += 1
        start = position
        if text.startswith('"', position):
            position = _string_end(text, position, '"')
            try:
                names.append(json.loads(text[start:position]))
            except ValueError:
                return [], text
        elif text.startswith("'", position):
            position = _string_end(text, position, "'")
            names.append(text[start + 1 : position - 1])
        else:
            while position < len(text) and text[position] in _BARE_KEY_CHARS:
                position += 1
            if position == start:
                return [], text
            names.append(text[start:position])
        while position < len(text) and text[position] in " \t":
            position += 1
        if not text.startswith(".", position):
            return names, text[position:]
        position += 1


def _string_end(text: str, start: int, quote: str) -> int:
    """Index just past the single-line string opening at `start`."""
    position = start + 1
    while position < len(text) and text[position] != quote:
        position += 2 if quote == '"' and text[position] == "\\" else 1
    return position + 1


def _scan(text: str, depth: int, open_string: str) -> tuple[int, str]:
    """Follow brackets and multi-line strings through one line of a value."""
    position = 0
    while position < len(text):
        if open_string:
            if text.startswith(open_string, position):
                position, open_string = position + 3, ""
            else:
                escaped = open_string == '"""' and text[position] == "\\"
                position += 2 if escaped else 1
            continue
        char = text[position]
        if char == "#":
            break
        if text.startswith('"""', position) or text.startswith("'''", position):
            open_string, position = text[position : position + 3], position + 3
            continue
        if char in "\"'":
            position = _string_end(text, position, char)
            continue
        depth += (char in "[{") - (char in "]}")
        position += 1
    return depth, open_string
