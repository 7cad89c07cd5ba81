"""Print the README's set-up command marked ``<!-- ci: NAME -->`` (the fenced block after it).

Usage: python .ci/readme_commands.py demo|tests [README.md]
CI runs exactly what the README tells users to run, so the two cannot drift apart.
"""
import re
import sys


def command(name, text):
    m = re.search(r"<!-- ci: %s -->\s*```sh\n(.*?)```" % re.escape(name), text, re.S)
    if m is None:
        sys.exit(f"README has no '<!-- ci: {name} -->' block")
    lines = [ln for ln in m.group(1).splitlines() if ln.strip()]
    if len(lines) != 1:
        sys.exit(f"README's '{name}' block should be one command line, found {len(lines)}")
    return lines[0]


if __name__ == "__main__":
    path = sys.argv[2] if len(sys.argv) > 2 else "README.md"
    with open(path, encoding="utf-8") as f:
        print(command(sys.argv[1], f.read()))
