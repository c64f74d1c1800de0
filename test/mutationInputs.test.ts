/**
 * scripts/mutation-program-inputs.js and the `--check` of scripts/mutation-program.sh, in a git
 * checkout of their own: the stage gates on the committed Stryker results without running Stryker
 * only while every file the mocked suite can read is as it was when those results were written; any
 * edit, new file or deletion among them (or another Node.js) runs Stryker again, and the files no
 * mocked test reads (the engine tests, the Docker plugin, the benchmarks) change nothing.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { ROOT } from "./mocks";

/** A report as Stryker writes it: one file, one killed mutant. */
const REPORT = {
    schemaVersion: "2",
    thresholds: { high: 90, low: 80 },
    files: { "config.ts": { language: "typescript", source: "x", mutants: [{ id: "1", mutatorName: "BooleanLiteral", replacement: "false", status: "Killed", location: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } } }] } },
};

describe("mutation-program: Stryker runs only when what it reads changed", function () {
    this.timeout(60_000);
    let dir: string;
    const env = { ...process.env, ONEDIGEST_PYTHON: "/nonexistent/python" };
    const run = (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => spawnSync(cmd, args, { cwd: dir, env: { ...env, ...extra }, encoding: "utf8" });
    const inputs = (mode: string, extra: NodeJS.ProcessEnv = {}) => run(process.execPath, ["scripts/mutation-program-inputs.js", mode], extra);
    const write = (file: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.writeFileSync(path.join(dir, file), text);
    };

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-mutation-inputs-"));
        for (const script of ["mutation-program-inputs.js", "mutation-program.sh", "mutation-program-gate.js"]) write(`scripts/${script}`, fs.readFileSync(path.join(ROOT, "scripts", script), "utf8"));
        write("config.ts", "export const a = true;\n");
        write("test/config.test.ts", "// a test\n");
        write("test/engine/stacks.test.ts", "// an engine test\n");
        write("docs/testing.md", "# testing\n");
        write("stryker-incremental.json", JSON.stringify(REPORT));
        write("stryker-survivors.txt", "");
        write(".gitignore", ".stryker/\n");
        assert.strictEqual(run("git", ["init", "-q"]).status, 0);
        assert.strictEqual(run("git", ["add", "."]).status, 0);
        assert.strictEqual(inputs("--write").status, 0);
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("lists every input with its hash, the Node.js and Python that run them, and none of the files no mocked test reads", () => {
        const lines = fs.readFileSync(path.join(dir, "stryker-inputs.txt"), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
        const names = lines.map((l) => l.slice(18));
        assert.deepStrictEqual(names, [`(node ${process.version})`, "(python none)", ".gitignore", "config.ts", "docs/testing.md", "scripts/mutation-program-gate.js", "scripts/mutation-program-inputs.js", "scripts/mutation-program.sh", "test/config.test.ts"]);
        for (const line of lines) assert.match(line, /^[0-9a-f]{16}  \S/);
    });

    it("nothing changed: --check succeeds and the stage runs only the gate, on the committed results", () => {
        assert.strictEqual(inputs("--check").status, 0);
        const stage = run("bash", ["scripts/mutation-program.sh", "--check"]);
        assert.strictEqual(stage.status, 0, stage.stderr);
        assert.match(stage.stdout, /the 9 inputs are those stryker-incremental\.json was computed from/);
        assert.match(stage.stdout, /1 of 1 mutants killed \(100\.0 %\)/);
        assert.match(stage.stdout, /mutation-program: 2 passed, 0 failed/);
    });

    it("the committed results still go through the gate: a survivor not listed fails the stage", () => {
        const report = structuredClone(REPORT);
        report.files["config.ts"].mutants[0].status = "Survived";
        write("stryker-incremental.json", JSON.stringify(report));
        const stage = run("bash", ["scripts/mutation-program.sh", "--check"]);
        assert.notStrictEqual(stage.status, 0);
        assert.match(stage.stdout, /0 of 1 mutants killed/);
    });

    for (const [what, change, name] of [
        ["an edited mutated file", () => write("config.ts", "export const a = false;\n"), "config.ts"],
        ["an edited test", () => write("test/config.test.ts", "// another test\n"), "test/config.test.ts"],
        ["an edited page a test reads", () => write("docs/testing.md", "# testing, edited\n"), "docs/testing.md"],
        ["a new file not yet added", () => write("test/new.test.ts", "// new\n"), "test/new.test.ts"],
        ["a deleted file", () => fs.rmSync(path.join(dir, "docs/testing.md")), "docs/testing.md"],
    ] as const) {
        it(`${what}: --check names it and the stage runs Stryker`, () => {
            change();
            const check = inputs("--check");
            assert.strictEqual(check.status, 1);
            assert.match(check.stdout, new RegExp(`1 input\\(s\\) changed since stryker-incremental\\.json was written: ${name.replace(/\./g, "\\.")}$`, "m"));
            // No node_modules here: Stryker's start fails, which shows the stage went on to run it.
            const stage = run("bash", ["scripts/mutation-program.sh", "--check"]);
            assert.notStrictEqual(stage.status, 0);
            assert.doesNotMatch(stage.stdout, /mutants killed/);
        });
    }

    it("another Python for the tests that run the app's gunicorn.conf.py is a change too", () => {
        const check = inputs("--check", { ONEDIGEST_PYTHON: process.execPath });
        assert.strictEqual(check.status, 1);
        assert.match(check.stdout, /changed since stryker-incremental\.json was written: \(python /);
    });

    it("an edited engine test, plugin file or benchmark is not an input", () => {
        write("test/engine/stacks.test.ts", "// edited\n");
        write("plugins/docker/main.go", "package main\n");
        write("bench/engine.sh", "#!/bin/sh\n");
        assert.strictEqual(inputs("--check").status, 0);
    });

    it("no record, or not a git checkout: Stryker runs", () => {
        fs.rmSync(path.join(dir, "stryker-inputs.txt"));
        assert.match(inputs("--check").stdout, /no stryker-inputs\.txt: Stryker runs/);
        assert.strictEqual(inputs("--check").status, 1);
        fs.rmSync(path.join(dir, ".git"), { recursive: true });
        assert.strictEqual(inputs("--check").status, 1);
    });
});
