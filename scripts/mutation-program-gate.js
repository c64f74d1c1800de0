// The gate of scripts/mutation-program.sh: reads Stryker's JSON report and fails unless at least
// MIN_SCORE % of the mutants were killed and every one that was not is listed, with why, in
// stryker-survivors.txt beside stryker.config.json (it prints those that are not).
//
//   node scripts/mutation-program-gate.js [REPORT] [MIN_SCORE]
//
// A line of stryker-survivors.txt: `<file>:<line>:<column> <mutator> <replacement as JSON>`, a tab,
// then the reason. `--list` prints the lines for the current survivors (reasons to be written).
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const args = process.argv.slice(2).filter((a) => a !== "--list");
const listOnly = process.argv.includes("--list");
const reportFile = args[0] ?? path.join(root, ".stryker", "report.json");
const minScore = Number(args[1] ?? 80);
const listFile = path.join(root, "stryker-survivors.txt");

/** The key a survivor is listed under: where it is, what it changes, and into what. */
function keyOf(file, m) {
    const replacement = (m.replacement ?? "").replace(/\s+/g, " ").slice(0, 60);
    return `${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} ${JSON.stringify(replacement)}`;
}

const report = JSON.parse(fs.readFileSync(reportFile, "utf8"));
let killed = 0;
let total = 0;
const left = [];
for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
        // Not counted, as in Stryker's own score: mutants that do not compile, are ignored by
        // configuration, or crash the test runner itself.
        if (m.status === "CompileError" || m.status === "Ignored" || m.status === "RuntimeError") continue;
        total++;
        if (m.status === "Killed" || m.status === "Timeout") killed++;
        else left.push({ key: keyOf(file, m), status: m.status });
    }
}
left.sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
if (listOnly) {
    for (const { key, status } of left) console.log(`${key}\t${status}`);
    process.exit(0);
}

const listed = new Map();
if (fs.existsSync(listFile)) {
    for (const line of fs.readFileSync(listFile, "utf8").split("\n")) {
        if (!line.trim() || line.startsWith("#")) continue;
        const [key, reason] = line.split("\t");
        listed.set(key, reason ?? "");
    }
}
const score = total === 0 ? 0 : (100 * killed) / total;
const unlisted = left.filter(({ key }) => !listed.get(key));
const leftKeys = new Set(left.map(({ key }) => key));
const stale = [...listed.keys()].filter((key) => !leftKeys.has(key));
let failed = 0;
console.log(`${killed} of ${total} mutants killed (${score.toFixed(1)} %)`);
if (score >= minScore) console.log(`ok    at least ${minScore} % killed`);
else {
    console.log(`FAIL  fewer than ${minScore} % killed`);
    failed++;
}
if (unlisted.length === 0) console.log(`ok    every mutant not killed is listed with its reason in stryker-survivors.txt (${left.length})`);
else {
    console.log(`FAIL  ${unlisted.length} mutant(s) not killed and not in stryker-survivors.txt (kill each with a test, or list it with why it survives):`);
    for (const { key, status } of unlisted) console.log(`      ${key}\t${status}`);
    failed++;
}
if (stale.length > 0) console.log(`note  ${stale.length} line(s) of stryker-survivors.txt name no surviving mutant (killed now, or the code moved): remove them`);
console.log(`mutation-program: ${2 - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
