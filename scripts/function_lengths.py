#!/usr/bin/env python3
"""Lists the functions in src/ longer than a limit (default 60 lines, from the
line of the opening brace to the closing brace). Exits 1 when there are any.

    scripts/function_lengths.py [--limit N] [--all] [paths...]

A small lexer, not a compiler: it skips comments, strings and character
literals, and calls a brace a function body when it opens outside any other
function and its header has a parameter list and is not a namespace, class,
struct, enum or an initialiser (`= {`). Lambdas are counted with the function
that holds them."""
import argparse
import pathlib
import re
import sys

NON_FUNCTION = re.compile(r'^\s*(template\s*<.*>\s*)?(namespace|class|struct|enum|union|extern)\b')


def strip(text):
    """The text with comments, strings and char literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            out.append(' ' * (j - i)); i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j])); i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(')' + m.group(1) + '"', i) + len(m.group(1)) + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:end])); i = end
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(' ' * (j + 1 - i)); i = j + 1
        else:
            out.append(c); i += 1
    return ''.join(out)


def functions(path):
    """(name, first line, line count) of each function body in the file."""
    text = strip(path.read_text())
    stack, found, header_start = [], [], 0
    line = 1
    for i, c in enumerate(text):
        if c == '\n':
            line += 1
        elif c in ';{}':
            if c == '{':
                # Preprocessor lines (#if with parentheses) are not part of it.
                header = re.sub(r'(?m)^\s*#.*$', '', text[header_start:i])
                in_function = 'function' in (k for k, _, _ in stack)
                initialiser = re.search(r'=\s*$', header) and 'operator' not in header
                is_function = (not in_function and '(' in header and
                               not NON_FUNCTION.search(header) and not initialiser)
                stack.append(('function' if is_function else 'block', line, header))
            elif c == '}' and stack:
                kind, start, header = stack.pop()
                if kind == 'function':
                    name = re.findall(r'([~\w:]+)\s*\(', header)
                    found.append((name[0] if name else '?', start, line - start + 1))
            header_start = i + 1
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--limit', type=int, default=60)
    ap.add_argument('--all', action='store_true', help='list every function, longest first')
    ap.add_argument('paths', nargs='*', default=['src'])
    args = ap.parse_args()
    files = []
    for p in map(pathlib.Path, args.paths):
        files += sorted(p.rglob('*.[ch]pp')) + sorted(p.rglob('*.h')) if p.is_dir() else [p]
    rows = [(n, f, s, name) for f in files for name, s, n in functions(f)]
    rows.sort(reverse=True)
    long = [r for r in rows if r[0] > args.limit]
    try:
        for n, f, s, name in (rows if args.all else long):
            print(f'{f}:{s}: {name}: {n} lines')
    except BrokenPipeError:
        return 0
    if long:
        print(f'{len(long)} function(s) longer than {args.limit} lines', file=sys.stderr)
    return 1 if long else 0


if __name__ == '__main__':
    sys.exit(main())
