"""The command lines written in the docs' shell code blocks: `aws ...` and `eb ...` by default,
or any other tools named (`xray-signup`, `make`, `python`: tests/test_docs_links.py).

Why: a person copies these lines into a terminal, so each must be one the tool accepts; the test
hands each to the tool's own argument parser. A shell line is turned into the argv the tool would
see: backslash continuations joined, `$ ` prompts and `# comments` dropped, `$VAR`, `<placeholder>`
and `$(date ...)` / `$((...))` replaced by plausible values, commands inside `$(...)` taken as
commands of their own, and `;`, `&&`, `||`, `|` separating commands. A variable or placeholder
with no plausible value here is an error, not a guess, so a new one is noticed.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LOCAL_TOOLS", "TOOLS", "DocCommand", "commands_in", "commands_in_docs", "shell_blocks"]

TOOLS = ("aws", "eb")
#: The project's own commands, as the docs write them (a `.venv/bin/` prefix is the same tool).
LOCAL_TOOLS = ("xray-signup", "make", "python", "python3")

#: Shell variables the docs use, with the values they hold in the guide.
VARIABLES = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "PROFILE": "xray-signup-ec2-profile",
    "SERVICE_ROLE": "xray-signup-service-role",
}

#: `<placeholder>` texts the docs use, with a plausible value.
PLACEHOLDERS = {
    "region": "us-east-1",
    "account id": "123456789012",
    "environment-name": "xray-signup-dev",
    "cname": "xray-signup-dev.eba-abcd1234.us-east-1.elasticbeanstalk.com",
    "this repository": "https://example.com/xray-signup.git",
}

#: A time in seconds, for `$(date +%s)` and arithmetic on it.
EPOCH = "1764300000"

SHELL_LANGUAGES = {"", "sh", "bash", "shell", "console", "zsh", "text"}
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")
_OPERATORS = {";", "&&", "||", "|", "&", "(", ")"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_]\w*)\}|(?P<plain>[A-Za-z_]\w*))")
_PLACEHOLDER = re.compile(r"<(?P<name>[a-z][a-z0-9 _-]*)>")


def _mentions(tools: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(re.escape(tool) for tool in tools)
    return re.compile(rf"(?:^|[\s;&|(])(?:\.venv/bin/)?(?:{names})(?:\s|$)")


@dataclass(frozen=True)
class DocCommand:
    """One command as the tool receives it: `argv` is what follows the tool's name."""

    tool: str
    argv: tuple[str, ...]
    source: str

    def __str__(self) -> str:
        return f"{self.source}: {self.tool} {shlex.join(self.argv)}"


def shell_blocks(path: Path) -> Iterator[tuple[int, str]]:
    """(line number of the block's first line, its text) for each shell code block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        index += 1
        if not opening:
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        start, body = index + 1, []
        while index < len(lines) and not lines[index].strip().startswith(fence):
            body.append(lines[index][indent:] if lines[index][:indent].isspace() else lines[index])
            index += 1
        index += 1  # the closing fence
        if opening["lang"].lower() in SHELL_LANGUAGES:
            yield start, "\n".join(body)


def _logical_lines(block: str, first: int) -> Iterator[tuple[int, str]]:
    """Lines with backslash continuations joined and a leading `$ ` prompt removed."""
    pending: list[str] = []
    start = first
    for number, line in enumerate(block.splitlines(), first):
        if not pending:
            start = number
            line = re.sub(r"^\s*\$\s+", "", line)
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        yield start, " ".join([*pending, line])
        pending = []
    if pending:
        yield start, " ".join(pending)


def _closing_paren(text: str, opening: int) -> int:
    depth = 0
    for index in range(opening, len(text)):
        if text[index] == "(":
            depth += 1
        elif text[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"unbalanced parentheses in {text!r}")


def _tool(word: str, tools: tuple[str, ...]) -> str | None:
    """The tool a command word names, if one of `tools` (`.venv/bin/make` is `make`)."""
    name = word.removeprefix(".venv/bin/")
    return name if name in tools else None


def _substitution(body: str, inner: list[str], tools: tuple[str, ...] = TOOLS) -> str:
    """The value a `$(...)` stands for; a tool command inside is kept in `inner`."""
    if body.startswith("(") or body.split()[:1] == ["date"]:
        return EPOCH
    if body.split()[:1] and _tool(body.split()[0], tools):
        inner.append(body)
        return "output-of-command"
    raise ValueError(f"no plausible value for $({body}): add one to tests/support/doc_commands.py")


def _expand(line: str, tools: tuple[str, ...] = TOOLS) -> tuple[str, list[str]]:
    """The line with substitutions made and comments dropped, and the commands in `$(...)`."""
    out: list[str] = []
    inner: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(line):
        char = line[index]
        if quote == "'":
            quote = None if char == "'" else quote
            out.append(char)
            index += 1
            continue
        if char == "\\":
            out.append(line[index : index + 2])
            index += 2
            continue
        if char in "'\"" and quote in (None, char):
            quote = None if quote else char
        elif char == "#" and quote is None and (index == 0 or line[index - 1].isspace()):
            break
        elif line.startswith("$(", index):
            end = _closing_paren(line, index + 1)
            out.append(_substitution(line[index + 2 : end].strip(), inner, tools))
            index = end + 1
            continue
        elif (variable := _VARIABLE.match(line, index)) is not None:
            name = variable["braced"] or variable["plain"]
            if name not in VARIABLES:
                raise ValueError(f"no plausible value for ${name}: add one to VARIABLES")
            out.append(VARIABLES[name])
            index = variable.end()
            continue
        elif (placeholder := _PLACEHOLDER.match(line, index)) is not None:
            if placeholder["name"] not in PLACEHOLDERS:
                raise ValueError(f"no plausible value for {placeholder[0]}: add to PLACEHOLDERS")
            out.append(PLACEHOLDERS[placeholder["name"]])
            index = placeholder.end()
            continue
        out.append(char)
        index += 1
    return "".join(out), inner


def commands_in(
    line: str, source: str = "", tools: tuple[str, ...] = TOOLS
) -> Iterator[DocCommand]:
    """Every command of `tools` in one logical shell line, those inside `$(...)` included."""
    expanded, inner = _expand(line, tools)
    for body in inner:
        yield from commands_in(body, source, tools)
    lexer = shlex.shlex(expanded, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    for token in [*lexer, ";"]:
        if token not in _OPERATORS:
            words.append(token)
            continue
        while words and _ASSIGNMENT.match(words[0]):
            words.pop(0)
        tool = _tool(words[0], tools) if words else None
        if tool:
            yield DocCommand(tool, tuple(words[1:]), source)
        words = []


def commands_in_docs(
    paths: list[Path], root: Path, tools: tuple[str, ...] = TOOLS
) -> list[DocCommand]:
    """Every command of `tools` in the shell code blocks of `paths`, in document order."""
    mentions = _mentions(tools)
    found: list[DocCommand] = []
    for path in paths:
        for first, block in shell_blocks(path):
            for number, line in _logical_lines(block, first):
                if mentions.search(line):
                    found += commands_in(line, f"{path.relative_to(root)}:{number}", tools)
    return found
