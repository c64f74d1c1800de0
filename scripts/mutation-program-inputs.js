// What a run of scripts/mutation-program.sh reads, file by file: every file of the checkout (tracked,
// or new and not ignored) but those the mocked suite that Stryker runs (test/*.test.ts) never loads or
// reads, and the Node.js and Python that run it. stryker-inputs.txt (committed) holds that list as it
// was when stryker-incremental.json was last written by a whole run; `--check` (scripts/test.sh's
// stage) compares the checkout with it: when nothing differs, Stryker would only confirm the
// committed results, so the stage gates on them without running it.
//
//   node scripts/mutation-program-inputs.js           prints the list (a hash and a path a line)
//   node scripts/mutation-program-inputs.js --write   writes it to stryker-inputs.txt
//   node scripts/mutation-program-inputs.js --check   exit 0: same as stryker-inputs.txt; exit 1: says
//                                                     what differs (at most 10 names, then a count)
"use strict";
const { spawnSync } = require("child_process");
const { createHash } = require("crypto");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const recordFile = path.join(root, "stryker-inputs.txt");

/**
 * Not inputs: the engine and pipeline tests and the Docker plugin (other stages run them; the mocked
 * suite imports none of them), the benchmarks, the app's own tests, and the results files (Stryker's,
 * written by the run itself, and mutmut's).
 */
const NOT_INPUTS = [
    /^test\/engine\//,
    /^test\/pipeline\/[^/]+\.test\.ts$/,
    /^plugins\//,
    /^bench\//,
    /^app\/tests\//,
    /^app\/mutmut-(results\.json|survivors\.txt)$/,
    /^stryker-(incremental\.json|inputs\.txt|survivors\.txt)$/,
];

function short(data) {
    return createHash("sha256").update(data).digest("hex").slice(0, 16);
}

/** `hash  name` lines, sorted by name; undefined outside a git checkout (then nothing is skipped). */
function inputs() {
    const ls = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
    if (ls.status !== 0) return undefined;
    const files = [...new Set(ls.stdout.split("\0").filter(Boolean))].filter((f) => !NOT_INPUTS.some((re) => re.test(f))).sort();
    const lines = [];
    for (const file of files) {
        let content;
        try {
            content = fs.readFileSync(path.join(root, file));
        } catch {
            continue; // deleted in the working tree, not yet in the index: not there for Stryker either
        }
        lines.push(`${short(content)}  ${file}`);
    }
    const python = process.env.ONEDIGEST_PYTHON || path.join(root, ".venv", "bin", "python");
    const version = spawnSync(python, ["--version"], { encoding: "utf8" });
    lines.unshift(`${short(version.status === 0 ? version.stdout.trim() : "none")}  (python ${version.status === 0 ? version.stdout.trim() : "none"})`);
    lines.unshift(`${short(process.version)}  (node ${process.version})`);
    return lines;
}

function recorded() {
    if (!fs.existsSync(recordFile)) return undefined;
    return fs
        .readFileSync(recordFile, "utf8")
        .split("\n")
        .filter((l) => l && !l.startsWith("#"));
}

/** The names whose lines differ between two lists: changed, new or gone. */
function differing(was, now) {
    const byName = (lines) => new Map(lines.map((l) => [l.slice(18), l.slice(0, 16)]));
    const a = byName(was);
    const b = byName(now);
    const names = new Set([...a.keys(), ...b.keys()]);
    return [...names].filter((n) => a.get(n) !== b.get(n)).sort();
}

const mode = process.argv[2];
const now = inputs();
if (mode === "--write") {
    if (!now) {
        console.error("mutation-program-inputs: not a git checkout; stryker-inputs.txt not written");
        process.exit(1);
    }
    const head = "# What stryker-incremental.json was computed from: scripts/mutation-program-inputs.js writes this after a whole run.\n";
    fs.writeFileSync(recordFile, `${head}${now.join("\n")}\n`);
} else if (mode === "--check") {
    const was = recorded();
    if (!now || !was) {
        console.log(`mutation-program-inputs: ${!now ? "not a git checkout" : "no stryker-inputs.txt"}: Stryker runs`);
        process.exit(1);
    }
    const changed = differing(was, now);
    if (changed.length === 0) {
        console.log(`mutation-program-inputs: the ${now.length} inputs are those stryker-incremental.json was computed from`);
        process.exit(0);
    }
    const shown = changed.slice(0, 10).join(", ");
    console.log(`mutation-program-inputs: ${changed.length} input(s) changed since stryker-incremental.json was written: ${shown}${changed.length > 10 ? `, and ${changed.length - 10} more` : ""}`);
    process.exit(1);
} else if (mode === undefined) {
    if (!now) process.exit(1);
    console.log(now.join("\n"));
} else {
    console.error(`mutation-program-inputs: unknown argument ${mode}; use --write, --check or nothing`);
    process.exit(2);
}
