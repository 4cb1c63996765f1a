#!/usr/bin/env python3
"""Fails when the files of a crate import each other in a circle.

Each .rs file is a module (`a/b.rs` and `a/b/mod.rs` are `a::b`); a file
imports another when its code (not its comments or its `mod tests`) names
`crate::…` or `super::…` paths into it. A module's own submodules and
parents do not count. Prints each circle with its edges.

    python3 .ci/import_circles.py analyzer/engine/src collector/src ...
"""
import os
import re
import sys

COMMENT = re.compile(r"^\s*//.*$", re.M)
TESTS = re.compile(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", re.S)
CRATE_PATH = re.compile(r"\bcrate::((?:\w+::)*\w+)")
SUPER_PATH = re.compile(r"\bsuper::((?:\w+::)*\w+)")


def modules(root):
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            parts = os.path.relpath(path, root)[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            with open(path, encoding="utf-8") as f:
                code = TESTS.sub("", COMMENT.sub("", f.read()))
            found["::".join(parts)] = (path, code)
    return found


def imports(mods):
    graph = {m: set() for m in mods}

    def add(module, base, path):
        parts = path.split("::")
        for k in range(len(parts), 0, -1):
            target = "::".join(base + parts[:k])
            if target in mods:
                if target != module and not module.startswith(target + "::"):
                    graph[module].add(target)
                return

    for module, (_, code) in mods.items():
        parent = module.split("::")[:-1] if module else []
        for path in CRATE_PATH.findall(code):
            add(module, [], path)
        for path in SUPER_PATH.findall(code):
            add(module, parent, path)
    return graph


def circles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main(roots):
    bad = 0
    for root in roots:
        mods = modules(root)
        graph = imports(mods)
        for component in circles(graph):
            bad += 1
            print(f"{root}: files import each other in a circle:")
            for m in component:
                inside = sorted(t for t in graph[m] if t in component)
                print(f"  {mods[m][0]} imports {', '.join(mods[t][0] for t in inside)}")
    if bad:
        print(f"{bad} import circle(s): move what both sides need into a file of its own")
        return 1
    print(f"import circles: none in {len(roots)} crates")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
