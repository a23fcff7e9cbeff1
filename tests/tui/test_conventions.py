"""The TUI's house rules, checked on the source: one message convention, one way to write a thread worker.

- A message that one screen or widget posts and handles is a nested class on it; `tui/messages.py`
  holds only messages that several modules use.
- Every `@work(thread=True)` worker posts through `tui/workers.py` (post_outcome, post_result,
  post_search): no hand-written try / is_cancelled / post_message block that could leave a screen
  "loading…" forever when something unexpected is raised.
"""

from __future__ import annotations

import ast
from pathlib import Path

TUI = Path(__file__).resolve().parents[2] / "tui"


def _modules() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(TUI)): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(TUI.rglob("*.py"))
    }


def _base_names(node: ast.ClassDef) -> list[str]:
    return [base.id if isinstance(base, ast.Name) else ast.unparse(base) for base in node.bases]


def _is_thread_worker(node: ast.FunctionDef) -> bool:
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "work":
            if any(k.arg == "thread" and ast.unparse(k.value) == "True" for k in decorator.keywords):
                return True
    return False


def _own_nodes(function: ast.FunctionDef) -> list[ast.AST]:
    """The nodes of a function's body, not those of functions defined inside it."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return found


def test_module_level_messages_live_only_in_messages_py() -> None:
    misplaced = [
        f"{name}: {node.name}"
        for name, module in _modules().items()
        if name not in ("messages.py", "widgets/control_message.py")  # the latter: the keys' base class
        for node in module.body
        if isinstance(node, ast.ClassDef) and "Message" in _base_names(node)
    ]
    assert misplaced == [], "nest a screen's or widget's own messages on its class"


def test_every_message_in_messages_py_crosses_modules() -> None:
    modules = _modules()
    shared = [
        node.name
        for node in modules["messages.py"].body
        if isinstance(node, ast.ClassDef) and "Message" in _base_names(node)
    ]
    assert shared, "messages.py lost its shared messages"
    for message in shared:
        users = [
            name
            for name, module in modules.items()
            if name != "messages.py"
            and any(isinstance(n, ast.Name) and n.id == message for n in ast.walk(module))
        ]
        assert len(users) >= 2, f"{message} is used only by {users}: nest it on that class"


def test_every_thread_worker_posts_through_the_workers_module() -> None:
    hand_written = []
    for name, module in _modules().items():
        if name == "workers.py":
            continue
        source = ast.unparse(module)
        if "get_current_worker" in source or ".is_cancelled" in source:
            hand_written.append(f"{name}: checks cancellation by hand (use workers.cancelled)")
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef) and _is_thread_worker(node):
                own = _own_nodes(node)
                if any(isinstance(n, ast.Try) for n in own):
                    hand_written.append(f"{name}: {node.name} catches errors by hand")
                if any(isinstance(n, ast.Attribute) and n.attr == "post_message" for n in own):
                    hand_written.append(f"{name}: {node.name} posts by hand")
    assert hand_written == []
