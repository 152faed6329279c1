#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Checks module/ against its layers file, from the built objects.

usage: layers.py LAYERS OBJDIR SRCDIR

LAYERS names each source file's layer and the layers each layer may call
(module/layers says how). For every object OBJDIR/<file>.o, `nm` tells the
global symbols it defines and the ones it uses; a use of a symbol that
another file of module/ defines is a call (or a reference) from the first
file to the second. The check fails, naming the symbol and both files, on:

- a call from a layer to one it may not call (a lower layer reaches a
  higher one only through what it is handed at init, which nm does not
  see: a function pointer is not a symbol use);
- any circle of files that call each other, within a layer too;
- a source file of SRCDIR (.c or .h) over the line limit;
- a source file that the layers file does not place, or a placed file
  that does not exist;
- an #include "x.h" of a header of a layer the including file may not
  call: what nm cannot see (a static inline of a header, a struct) is
  used only through a header, so the headers keep the same direction. A
  header is in the layer of the .c of the same name, or in the one the
  layers file names it in.

Prints what it found and "layers: ok" on success; exits 1 otherwise.
"""
import os
import re
import subprocess
import sys

LINE_LIMIT = 500


def parse_layers(path):
    """{layer: (files, calls)} in file order, and {file: layer}."""
    layers = {}
    owner = {}
    order = []
    with open(path) as f:
        for num, raw in enumerate(f, 1):
            line = raw.split('#', 1)[0].strip()
            if not line:
                continue
            try:
                name, rest = line.split(None, 1)
                files_part, calls_part = rest.split('calls:', 1)
                files_part = files_part.strip()
                if not files_part.startswith('files:'):
                    raise ValueError
                files = files_part[len('files:'):].split()
                calls = [c for c in calls_part.split() if c != '-']
            except ValueError:
                sys.exit(f'{path}:{num}: expected "LAYER files: F... calls: L... | -"')
            if name in layers:
                sys.exit(f'{path}:{num}: layer {name} named twice')
            layers[name] = (files, calls)
            order.append(name)
            for fn in files:
                if fn in owner:
                    sys.exit(f'{path}:{num}: {fn} is in two layers')
                owner[fn] = name
    for name, (_, calls) in layers.items():
        for c in calls:
            if c not in layers:
                sys.exit(f'{path}: layer {name} may call {c}, which is no layer')
    return layers, owner, order


def nm(obj):
    """(defined global symbols, used symbols) of one object.

    Weak definitions (W, V) count as definitions and weak references
    (w, v) as uses: a weak upward call is still an upward call."""
    out = subprocess.run(['nm', obj], check=True, capture_output=True,
                         text=True).stdout
    defined, used = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ('U', 'w', 'v'):
            used.add(parts[1])
        elif len(parts) == 3 and parts[1].isupper() and parts[1] != 'U':
            defined.add(parts[2])
    return defined, used


def circles(nodes, edges):
    """The strongly connected components of more than one file (Tarjan)."""
    index, low, on, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return found


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    layers_path, objdir, srcdir = sys.argv[1:]
    layers, owner, order = parse_layers(layers_path)
    errors = []

    sources = sorted(f for f in os.listdir(srcdir)
                     if f.endswith('.c') or f.endswith('.h'))
    for fn in sources:
        with open(os.path.join(srcdir, fn)) as f:
            n = sum(1 for _ in f)
        if n > LINE_LIMIT:
            errors.append(f'module/{fn}: {n} lines, over the limit of {LINE_LIMIT}')
        if fn.endswith('.c') and fn not in owner:
            errors.append(f'module/{fn}: in no layer of {layers_path}')
    for fn in owner:
        if fn not in sources:
            errors.append(f'{layers_path}: {fn} does not exist')

    # Headers: the layer of their .c, unless the layers file places them.
    for fn in sources:
        if fn.endswith('.h') and fn not in owner:
            c = fn[:-2] + '.c'
            if c in owner:
                owner[fn] = owner[c]
            else:
                errors.append(f'module/{fn}: in no layer of {layers_path} '
                              f'(and no {c})')
    include = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
    for fn in sources:
        if fn not in owner:
            continue
        with open(os.path.join(srcdir, fn)) as f:
            for num, line in enumerate(f, 1):
                m = include.match(line)
                if not m or m.group(1) not in owner:
                    continue
                a, b = owner[fn], owner[m.group(1)]
                if a != b and b not in layers[a][1]:
                    errors.append(f'module/{fn}:{num} includes {m.group(1)}: '
                                  f'layer {a} may not call layer {b}')

    defs, uses = {}, {}
    for fn in list(owner):
        if not fn.endswith('.c'):
            continue
        obj = os.path.join(objdir, fn[:-2] + '.o')
        if not os.path.exists(obj):
            if fn in sources:
                errors.append(f'module/{fn}: no object {obj} to check')
            continue
        d, u = nm(obj)
        uses[fn] = u
        for s in d:
            # Alternatives (the two hook backends) define the same
            # symbols: a use reaches every file that defines it.
            defs.setdefault(s, []).append(fn)

    edges = {}
    why = {}
    for fn, used in uses.items():
        for s in sorted(used):
            for to in defs.get(s, ()):
                if to == fn:
                    continue
                edges.setdefault(fn, set()).add(to)
                why.setdefault((fn, to), []).append(s)
                a, b = owner[fn], owner[to]
                if a != b and b not in layers[a][1]:
                    errors.append(f'module/{fn} uses {s} of module/{to}: '
                                  f'layer {a} may not call layer {b}')

    for comp in circles(owner.keys(), edges):
        ties = []
        for a in comp:
            for b in comp:
                if (a, b) in why:
                    ties.append(f'{a} -> {b} ({", ".join(why[(a, b)][:3])})')
        errors.append('a circle of files: ' + '; '.join(ties))

    for name in order:
        files, calls = layers[name]
        print(f'# layer {name:10s} {" ".join(files)}'
              f'  calls: {" ".join(calls) or "-"}')
    if errors:
        for e in errors:
            print(f'layers: {e}')
        print(f'layers: {len(errors)} problem(s)')
        return 1
    print('layers: ok')
    return 0


if __name__ == '__main__':
    sys.exit(main())
