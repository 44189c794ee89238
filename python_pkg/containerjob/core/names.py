"""Static analysis of a cell: which names it reads from outside and which it assigns."""
from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass
from typing import Iterator

from .errors import SpecError


@dataclass(frozen=True)
class CellNames:
    reads: tuple[str, ...]    # names read before the cell binds them, in order of first use (builtins
    #                           included: a kernel variable may shadow one, e.g. `input`)
    assigns: tuple[str, ...]  # names the cell binds at top level, in order


def runner_provides(name: str, value: object) -> bool:
    """IPython's display(), imported into the kernel (`from IPython.display import display`): the runner gives
    cells their own, so it is not sent (an image without IPython could not unpickle IPython's)."""
    return name == "display" and getattr(value, "__module__", "").startswith("IPython.")


def parse_cell(source: str, filename: str) -> ast.Module:
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise SpecError(f"the cell has a syntax error at line {exc.lineno}: {exc.msg}; fix the cell") from None


def analyse(source: str, tree: ast.Module, filename: str = "<cell>") -> CellNames:
    """Module-scope reads in execution order (x = x + 1 reads x), plus globals read by nested scopes."""
    walker = _Walker()
    walker.block(tree.body)
    reads = walker.reads
    for name in _nested_globals(symtable.symtable(source, filename, "exec")):
        if name not in walker.bound and name not in reads:
            reads.append(name)
    return CellNames(tuple(reads), tuple(walker.assigns))


class _Walker:
    """Visits statements in execution order, recording reads of names not yet bound."""

    def __init__(self) -> None:
        self.reads: list[str] = []
        self.assigns: list[str] = []
        self.bound: set[str] = set()

    def block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def stmt(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, (ast.For, ast.AsyncFor)):
            self.expr(stmt.iter)
            self.expr(stmt.target)
            self.block(stmt.body + stmt.orelse)
        elif isinstance(stmt, (ast.If, ast.While)):
            self.expr(stmt.test)
            self.block(stmt.body + stmt.orelse)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                self.expr(item.context_expr)
                if item.optional_vars is not None:
                    self.expr(item.optional_vars)
            self.block(stmt.body)
        elif isinstance(stmt, ast.Try):
            self.block(stmt.body)
            for handler in stmt.handlers:
                if handler.type is not None:
                    self.expr(handler.type)
                if handler.name:
                    self.bind(handler.name)
                self.block(handler.body)
            self.block(stmt.orelse + stmt.finalbody)
        else:
            self.expr(stmt)

    def expr(self, node: ast.AST) -> None:
        stores: list[str] = []
        for sub in _module_scope(node):
            if isinstance(sub, ast.Name):
                if isinstance(sub.ctx, ast.Load):
                    self.read(sub.id)
                else:
                    stores.append(sub.id)
            elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stores.append(sub.name)
            elif isinstance(sub, (ast.Import, ast.ImportFrom)):
                stores.extend((a.asname or a.name).split(".")[0] for a in sub.names if a.name != "*")
        for name in stores:
            self.bind(name)

    def read(self, name: str) -> None:
        if name not in self.bound and name not in self.reads:
            self.reads.append(name)

    def bind(self, name: str) -> None:
        if name not in self.bound:
            self.bound.add(name)
            self.assigns.append(name)


def _module_scope(node: ast.AST) -> Iterator[ast.AST]:
    """Nodes evaluated in module scope: skips bodies of functions, classes and comprehensions."""
    yield node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        children: list[ast.AST] = [*node.decorator_list, *node.args.defaults,
                                   *(d for d in node.args.kw_defaults if d is not None)]
    elif isinstance(node, ast.ClassDef):
        children = [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]
    elif isinstance(node, ast.Lambda):
        children = [*node.args.defaults]
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        children = [node.generators[0].iter]
    else:
        children = list(ast.iter_child_nodes(node))
    for child in children:
        yield from _module_scope(child)


def _nested_globals(table: symtable.SymbolTable) -> Iterator[str]:
    for child in table.get_children():
        for sym in child.get_symbols():
            if sym.is_referenced() and (sym.is_global() or sym.is_free()) and not sym.is_local():
                yield sym.get_name()
        yield from _nested_globals(child)
