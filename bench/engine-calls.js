#!/usr/bin/env node
// Sums the commands the real-engine tests ran, from the JSON lines test/engine/cli.ts writes with
// ONEDIGEST_CLI_LOG=FILE: per command (`pulumi up`, `pulumi config`, `bash deploy-local.sh`, …) and per
// test file, the number of calls and their wall-clock seconds (in parallel mode calls overlap, so the
// seconds add up to more than the stage took).
//
//   ONEDIGEST_CLI_LOG=/tmp/calls.jsonl npx mocha --config test/engine/.mocharc.json
//   node bench/engine-calls.js /tmp/calls.jsonl
"use strict";
const fs = require("fs");

const file = process.argv[2];
if (!file) {
    console.error("usage: node bench/engine-calls.js CALLS.jsonl (written by the engine tests with ONEDIGEST_CLI_LOG)");
    process.exit(2);
}
const calls = fs
    .readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));

function table(title, key) {
    const groups = new Map();
    for (const c of calls) {
        const k = key(c);
        const g = groups.get(k) ?? { n: 0, ms: 0 };
        g.n += 1;
        g.ms += c.ms;
        groups.set(k, g);
    }
    const rows = [...groups.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const width = Math.max(title.length, ...rows.map(([k]) => k.length));
    console.log(`${title.padEnd(width)}  calls  total s  mean s`);
    for (const [k, g] of rows) {
        console.log(`${k.padEnd(width)}  ${String(g.n).padStart(5)}  ${(g.ms / 1000).toFixed(1).padStart(7)}  ${(g.ms / g.n / 1000).toFixed(2).padStart(6)}`);
    }
    console.log("");
}

table("command", (c) => `${c.cmd} ${c.sub}`.trim());
table("test file", (c) => c.file || "(no file)");
const total = calls.reduce((s, c) => s + c.ms, 0);
console.log(`${calls.length} calls, ${(total / 1000).toFixed(1)} s in all`);
