"""Shared command-line driver of the interop scripts: one command name on argv,
{"cases": [...]} as JSON on stdin, {"results": [...]} as JSON on stdout."""
import json
import sys


def run(script, commands):
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.stderr.write("usage: %s {%s} < cases.json\n" % (script, ",".join(commands)))
        return 64
    command = commands[sys.argv[1]]
    cases = json.load(sys.stdin)["cases"]
    json.dump({"results": [command(case) for case in cases]}, sys.stdout)
    return 0
