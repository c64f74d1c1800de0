/**
 * The fake cloud plugins' shared framework (test/engine/fakes/framework.ts) on its own, without the
 * engine: the store keeps every write of processes that change it at once and drops a failed
 * transaction, a dead holder's lock does not block it forever, and the diff replaces exactly on
 * ForceNew fields.
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { ROOT } from "../mocks";
import { CloudError, Store, UNKNOWN, diffInputs, type ForceNew } from "./fakes/framework";

function child(script: string): Promise<number> {
    return new Promise((resolve, reject) => {
        const proc = spawn(process.execPath, ["--no-experimental-strip-types", "-r", "ts-node/register/transpile-only", "-e", script], { cwd: ROOT, env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") }, stdio: ["ignore", "inherit", "inherit"] });
        proc.on("error", reject);
        proc.on("exit", (code) => resolve(code ?? 1));
    });
}

describe("fake cloud framework: the store", function () {
    let dir = "";
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-store-"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("keeps every write of four processes that change it at once", async function () {
        this.timeout(60_000);
        const file = path.join(dir, "gcp.json");
        const go = path.join(dir, "go");
        // Each process waits for the others, then reads, waits a millisecond and writes, 50 times:
        // without the lock, writes of one process would overwrite the others'.
        const script = (n: number) =>
            [
                `const fs = require("fs");`,
                `const { Store } = require(${JSON.stringify(path.join(__dirname, "fakes", "framework"))});`,
                `const s = new Store(${JSON.stringify(file)});`,
                `fs.writeFileSync(${JSON.stringify(path.join(dir, `ready-${n}`))}, "");`,
                `while (!fs.existsSync(${JSON.stringify(go)})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);`,
                `for (let i = 0; i < 50; i++) s.transact((db) => { const t = db.table("counter"); const n = Number(t.n?.value ?? 0); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); t.n = { value: n + 1 }; db.log({ op: "update", type: "counter" }); });`,
            ].join("\n");
        const done = Promise.all([1, 2, 3, 4].map((n) => child(script(n))));
        while ([1, 2, 3, 4].some((n) => !fs.existsSync(path.join(dir, `ready-${n}`)))) await new Promise((r) => setTimeout(r, 20));
        fs.writeFileSync(go, "");
        assert.deepStrictEqual(await done, [0, 0, 0, 0]);
        const data = new Store(file).snapshot();
        assert.strictEqual(data.tables.counter.n.value, 200);
        assert.strictEqual(data.log.length, 200);
        assert.ok(!fs.existsSync(`${file}.lock`), "the lock is released");
    });

    it("drops what a transaction changed when it throws", () => {
        const store = new Store(path.join(dir, "gcp.json"));
        store.transact((db) => void (db.table("t").a = { v: 1 }));
        assert.throws(() => store.transact((db) => {
            db.table("t").b = { v: 2 };
            throw new CloudError(409, "ALREADY_EXISTS", "taken");
        }), /taken/);
        assert.deepStrictEqual(Object.keys(store.snapshot().tables.t), ["a"]);
    });

    it("breaks a lock its holder left behind when it died, once the lock is old", () => {
        const file = path.join(dir, "gcp.json");
        fs.writeFileSync(`${file}.lock`, "999999999");
        const old = new Date(Date.now() - 60_000);
        fs.utimesSync(`${file}.lock`, old, old);
        const store = new Store(file);
        store.transact((db) => void (db.table("t").a = { v: 1 }));
        assert.deepStrictEqual(store.snapshot().tables.t, { a: { v: 1 } });
    });

    it("moves the cloud's clock only when a test says so", () => {
        const store = new Store(path.join(dir, "gcp.json"));
        const before = store.transact((db) => db.now());
        store.transact((db) => db.advanceClock(30 * 86_400_000));
        const after = store.transact((db) => db.now());
        assert.ok(after - before >= 30 * 86_400_000 && after - before < 30 * 86_400_000 + 5_000);
    });
});

describe("fake cloud framework: the diff", () => {
    const forceNew: ForceNew[] = [
        { field: "name", source: "x.go:1" },
        { field: "config.mode", source: "x.go:2" },
        { field: "remote", source: "x.go:3" },
    ];
    const module = { forceNew };

    it("replaces on a ForceNew field, updates in place on any other", () => {
        const replaced = diffInputs(module, { name: "a", description: "d" }, { name: "b", description: "d" });
        assert.deepStrictEqual([replaced.changes, replaced.replaces, replaced.detailed], [true, ["name"], { name: { kind: "update", replace: true } }]);
        const updated = diffInputs(module, { name: "a", description: "d" }, { name: "a", description: "e" });
        assert.deepStrictEqual([updated.changes, updated.replaces, updated.detailed], [true, [], { description: { kind: "update", replace: false } }]);
    });

    it("names a nested ForceNew field, and any field under a ForceNew block, as a replacement", () => {
        const nested = diffInputs(module, { config: { mode: "A", size: 1 } }, { config: { mode: "B", size: 2 } });
        assert.deepStrictEqual(nested.detailed, { "config.mode": { kind: "update", replace: true }, "config.size": { kind: "update", replace: false } });
        assert.deepStrictEqual(nested.replaces, ["config"]);
        const under = diffInputs(module, { remote: { uri: "a" } }, { remote: { uri: "b" } });
        assert.deepStrictEqual(under.detailed, { "remote.uri": { kind: "update", replace: true } });
    });

    it("sees no change in a field left out of both inputs, adds and deletes the others, and walks lists by index", () => {
        assert.strictEqual(diffInputs(module, { name: "a" }, { name: "a" }).changes, false);
        const listed = diffInputs(module, { items: [{ v: 1 }, { v: 2 }], gone: "x" }, { items: [{ v: 1 }, { v: 3 }], added: "y" });
        assert.deepStrictEqual(listed.detailed, { "items[1].v": { kind: "update", replace: false }, gone: { kind: "delete", replace: false }, added: { kind: "add", replace: false } });
    });

    it("replaces when a ForceNew value is not known yet (a preview), updates for any other unknown", () => {
        assert.deepStrictEqual(diffInputs(module, { name: "a" }, { name: UNKNOWN }).replaces, ["name"]);
        const other = diffInputs(module, { description: "d" }, { description: UNKNOWN });
        assert.deepStrictEqual([other.replaces, other.detailed], [[], { description: { kind: "update", replace: false } }]);
    });

    it("compares secrets by value, honours ignoreChanges, and deletes first only where the module says so", () => {
        const secret = (value: string) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
        assert.strictEqual(diffInputs(module, { data: secret("s") }, { data: secret("s") }).changes, false);
        assert.strictEqual(diffInputs(module, { data: secret("s") }, { data: secret("t") }).changes, true);
        assert.strictEqual(diffInputs(module, { name: "a" }, { name: "b" }, ["name"]).changes, false);
        assert.strictEqual(diffInputs(module, { name: "a" }, { name: "b" }).deleteBeforeReplace, false);
        const first = { forceNew, deleteBeforeReplace: { why: "the name must be free", source: "x.go:9" } };
        assert.strictEqual(diffInputs(first, { name: "a" }, { name: "b" }).deleteBeforeReplace, true);
        assert.strictEqual(diffInputs(first, { description: "a" }, { description: "b" }).deleteBeforeReplace, false);
    });
});
