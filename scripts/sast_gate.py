"""Gate of scripts/sast.sh and scripts/dast.sh: reads one tool's JSON report, prints every finding,
and fails on any finding that checks/accepted-findings.txt does not list with its reason, and on
any entry for this tool that no longer matches a finding (the list stays true).

    python3 scripts/sast_gate.py TOOL REPORT.json [ROOT]

Tools and what a finding is: bandit (results), semgrep (results; errors fail too: a file it could
not parse was not checked), hadolint (every message), checkov (failed checks), wapiti
(vulnerabilities and anomalies above informational; the rest is only printed).
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import urlsplit

ACCEPTED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "checks", "accepted-findings.txt")


def rel(path: str, root: str) -> str:
    path = os.path.normpath(os.path.join(root, path.lstrip("/")) if path.startswith("/") and not os.path.exists(path) else path)
    return os.path.relpath(os.path.abspath(path), root)


def findings(tool: str, report, root: str) -> list[tuple[str, str, str]]:
    """(rule, path, what) of each finding."""
    out: list[tuple[str, str, str]] = []
    if tool == "bandit":
        for r in report["results"]:
            out.append((r["test_id"], rel(r["filename"], root), f"line {r['line_number']}: {r['issue_text']}"))
    elif tool == "semgrep":
        if not report.get("paths", {}).get("scanned"):
            out.append(("error", ".", "no file scanned"))
        for e in report.get("errors", []):
            out.append(("error", e.get("path", "?"), e.get("message", "semgrep error")[:300]))
        for r in report["results"]:
            rule = r["check_id"].rsplit(".", 1)[-1]
            out.append((rule, rel(r["path"], root), f"line {r['start']['line']}: {r['extra']['message'].strip()}"))
    elif tool == "hadolint":
        for r in report:
            out.append((r["code"], rel(r["file"], root), f"line {r['line']} ({r['level']}): {r['message']}"))
    elif tool == "checkov":
        for part in report if isinstance(report, list) else [report]:
            for r in part.get("results", {}).get("failed_checks", []):
                lines = r.get("file_line_range") or ["?", "?"]
                out.append((r["check_id"], rel(r["file_path"], root), f"lines {lines[0]}-{lines[1]}: {r['check_name'].strip()}"))
    elif tool == "wapiti":
        # Levels as wapiti has them: 0 informational, 1 low, 2 medium, 3 high, 4 critical.
        for kind in ("vulnerabilities", "anomalies", "additionals"):
            for name, items in report.get(kind, {}).items():
                for item in items:
                    path = urlsplit(item.get("path") or "/").path or "/"
                    what = f"level {item.get('level', '?')}, {item.get('method', '')} {item.get('info', '')}"
                    if kind == "additionals" or item.get("level") == 0:
                        print(f"info      wapiti {name} {path}: {what}")
                    else:
                        # One word in checks/accepted-findings.txt: "Unencrypted_Channels".
                        out.append((name.replace(" ", "_"), path, what))
    else:
        raise SystemExit(f"unknown tool {tool!r}")
    return out


def accepted(tool: str) -> dict[tuple[str, str], str]:
    entries: dict[tuple[str, str], str] = {}
    with open(ACCEPTED, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(maxsplit=3)
            if len(parts) < 4:
                raise SystemExit(f"{ACCEPTED}: {line!r}: expected TOOL RULE PATH reason")
            if parts[0] == tool:
                entries[(parts[1], parts[2])] = parts[3]
    return entries


def main(argv: list[str]) -> int:
    tool, report_file = argv[1], argv[2]
    root = os.path.abspath(argv[3] if len(argv) > 3 else os.getcwd())
    with open(report_file, encoding="utf-8") as f:
        report = json.load(f)
    allowed = accepted(tool)
    used: set[tuple[str, str]] = set()
    new = 0
    for rule, path, what in findings(tool, report, root):
        key = (rule, path)
        if key in allowed:
            used.add(key)
            print(f"accepted  {tool} {rule} {path} {what} -- {allowed[key]}")
        else:
            new += 1
            print(f"FINDING   {tool} {rule} {path} {what}")
    stale = [key for key in allowed if key not in used]
    for rule, path in stale:
        print(f"STALE     {tool} {rule} {path}: listed in checks/accepted-findings.txt, found no more: remove the line")
    print(f"{tool}: {new} new finding(s), {len(used)} accepted, {len(stale)} stale")
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
