/**
 * scripts/register.js, the hook Pulumi.yaml loads the program with: in a fresh Node.js each time (as
 * `pulumi up` starts one), a file is transpiled once and loaded from the cache afterwards without the
 * compiler, an edit is never served stale, frames point at the TypeScript lines, and a cache that
 * cannot be written changes nothing but speed.
 */
import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { ROOT } from "./mocks";

const REGISTER = path.join(ROOT, "scripts", "register.js");

/** Loads `file` in a new Node.js through the hook; prints its export, whether TypeScript was loaded, and a thrown error's first frame. */
function load(file: string, cache: string): { value: string; compiler: boolean; frame: string } {
    const script = `
        let value, frame = "";
        try { value = require(${JSON.stringify(file)}).value; } catch (e) { frame = e.stack.split("\\n")[1].trim(); }
        const compiler = Object.keys(require.cache).some((k) => k.includes("/node_modules/typescript/"));
        console.log(JSON.stringify({ value: String(value), compiler, frame }));`;
    const run = spawnSync(process.execPath, ["--no-experimental-strip-types", "--require", REGISTER, "-e", script], {
        cwd: ROOT,
        env: { ...process.env, ONEDIGEST_CACHE: cache, NODE_OPTIONS: "" },
        encoding: "utf8",
    });
    assert.strictEqual(run.status, 0, run.stderr);
    return JSON.parse(run.stdout.trim().split("\n").pop()!) as { value: string; compiler: boolean; frame: string };
}

describe("scripts/register.js: the program's TypeScript loader", function () {
    this.timeout(60_000);
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-register-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("transpiles a file once; the next process loads it from the cache without the compiler", () => {
        const file = path.join(dir, "mod.ts");
        fs.writeFileSync(file, `interface Shape { n: number }\nconst s: Shape = { n: 41 };\nexport const value: number = s.n + 1;\n`);
        const cache = path.join(dir, "cache");
        const first = load(file, cache);
        assert.deepStrictEqual([first.value, first.compiler], ["42", true]);
        assert.strictEqual(fs.readdirSync(path.join(cache, "ts")).filter((f) => f.endsWith(".json")).length, 1);
        const second = load(file, cache);
        assert.deepStrictEqual([second.value, second.compiler], ["42", false]);
        assert.ok(fs.existsSync(path.join(cache, "node-compile")), "Node's compile cache is enabled beside it");
    });

    it("never serves an edited file stale", () => {
        const file = path.join(dir, "mod.ts");
        const cache = path.join(dir, "cache");
        fs.writeFileSync(file, `export const value: string = "before";\n`);
        assert.strictEqual(load(file, cache).value, "before");
        fs.writeFileSync(file, `export const value: string = "after";\n`);
        assert.strictEqual(load(file, cache).value, "after");
        fs.writeFileSync(file, `export const value: string = "before";\n`);
        assert.strictEqual(load(file, cache).value, "before");
    });

    it("maps a thrown error's frame to the TypeScript line, from the cache as on a first load", () => {
        const file = path.join(dir, "boom.ts");
        // Type-only lines vanish from the JavaScript: an unmapped frame would name a smaller line.
        fs.writeFileSync(file, `type A = string;\ninterface B {\n    a: A;\n}\nexport function boom(): never {\n    throw new Error("boom");\n}\nboom();\n`);
        const cache = path.join(dir, "cache");
        for (const round of ["first", "cached"]) {
            const { frame } = load(file, cache);
            assert.match(frame, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:6:11`), `${round}: ${frame}`);
        }
    });

    it("still loads the program's files where the cache cannot be written", () => {
        const file = path.join(dir, "mod.ts");
        fs.writeFileSync(file, `export const value: number = 7;\n`);
        const notADir = path.join(dir, "file");
        fs.writeFileSync(notADir, "");
        for (let i = 0; i < 2; i++) assert.deepStrictEqual(load(file, notADir), { value: "7", compiler: true, frame: "" });
    });
});
