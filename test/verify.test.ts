/**
 * scripts/verify.ts against real HTTP servers on loopback: a match, every kind of mismatch, slow
 * starts, bad JSON and a server that never answers. (test/engine/deployLocal.test.ts runs it
 * against the deployed container.)
 */
import * as assert from "assert";
import { spawn } from "child_process";
import * as http from "http";
import type { AddressInfo } from "net";

import { checkDeployment, mismatch, readOutputs, verify, type Options } from "../scripts/verify";
import { ROOT } from "./mocks";

const ID = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;
const FAST: Options = { timeoutMs: 1_500, requestTimeoutMs: 300, firstDelayMs: 50, maxDelayMs: 200 };
const health = (imageid: string, commit = "c0ffee", version = "0.1.0") => JSON.stringify({ myapplication: [{ version, description: "d", lastcommitsha: commit, imageid }] });

/** A server whose /healthcheck answers with `responses` in turn (the last one repeats); "hang" never answers. */
async function server(responses: Array<[number, string] | "hang">): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
    let hits = 0;
    const open = new Set<http.ServerResponse>();
    const srv = http.createServer((req, res) => {
        const r = responses[Math.min(hits++, responses.length - 1)];
        if (r === "hang") {
            open.add(res);
            return;
        }
        res.writeHead(r[0], { "content-type": "application/json" }).end(r[1]);
    });
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
        hits: () => hits,
        close: async () => {
            for (const res of open) res.destroy();
            srv.closeAllConnections();
            await new Promise((r) => srv.close(r));
        },
    };
}

function runCli(stdin: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", "--eval", 'require("./scripts/verify").main(process.argv.slice(1))', "--", ...args], { cwd: ROOT });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
        child.stdin.end(stdin);
    });
}

describe("verify: what proves the bits", () => {
    it("needs the image ID, and the commit and version unless told otherwise", () => {
        const body = JSON.parse(health(ID));
        assert.strictEqual(mismatch(body, { imageId: ID, commit: "c0ffee", version: "0.1.0" }), undefined);
        assert.strictEqual(mismatch(body, { imageId: OTHER }), `reports imageid ${ID}, expected ${OTHER}`);
        assert.strictEqual(mismatch(body, { imageId: ID, commit: "beef" }), "reports commit c0ffee, expected beef");
        assert.strictEqual(mismatch(body, { imageId: ID, version: "2.0.0" }), "reports version 0.1.0, expected 2.0.0");
        assert.match(mismatch({ status: "ok" }, { imageId: ID })!, /^not the healthcheck format/);
    });

    it("reads the stack's outputs, and says so when there are none", () => {
        assert.deepStrictEqual(readOutputs(JSON.stringify({ imageId: ID, deployments: { local: { url: "http://x", imageId: ID, image: ID } } })), { imageId: ID, deployments: [{ kind: "local", url: "http://x", imageId: ID }] });
        assert.throws(() => readOutputs("{}"), /exports no imageId and deployments: has it been deployed/);
        assert.throws(() => readOutputs("not json"), /not JSON/);
    });
});

describe("verify: against HTTP servers", () => {
    it("passes a target that reports the stack's image ID, commit and version", async () => {
        const s = await server([[200, health(ID)]]);
        try {
            const r = await checkDeployment({ kind: "local", url: s.url, imageId: ID }, { imageId: ID, commit: "c0ffee", version: "0.1.0" }, FAST);
            assert.ok(r.ok, r.detail);
            assert.strictEqual(r.attempts, 1);
            assert.ok(typeof r.latencyMs === "number");
        } finally {
            await s.close();
        }
    });

    it("waits out a slow start: 503s, then the new release", async () => {
        const s = await server([[503, "starting"], [503, "starting"], [200, health(OTHER)], [200, health(ID)]]);
        try {
            const r = await checkDeployment({ kind: "heroku", url: s.url, imageId: ID }, { imageId: ID }, FAST);
            assert.ok(r.ok, r.detail);
            assert.strictEqual(r.attempts, 4);
        } finally {
            await s.close();
        }
    });

    it("fails a target that keeps reporting other bits, naming what it reports", async () => {
        const s = await server([[200, health(OTHER)]]);
        try {
            const r = await checkDeployment({ kind: "aws-ecs", url: s.url, imageId: ID }, { imageId: ID }, FAST);
            assert.strictEqual(r.ok, false);
            assert.match(r.detail, new RegExp(`^reports imageid ${OTHER}, expected ${ID} \\(gave up after \\d+ attempts in 2 s\\)$`));
            assert.ok(s.hits() > 2, "it retried");
        } finally {
            await s.close();
        }
    });

    it("fails on a body that is not JSON", async () => {
        const s = await server([[200, "<html>maintenance</html>"]]);
        try {
            const r = await checkDeployment({ kind: "gcp-cloudrun", url: s.url, imageId: ID }, { imageId: ID }, FAST);
            assert.strictEqual(r.ok, false);
            assert.match(r.detail, /^not JSON: "<html>maintenance<\/html>"/);
        } finally {
            await s.close();
        }
    });

    it("gives up on a server that never answers, within the deadline", async () => {
        const s = await server(["hang"]);
        const started = Date.now();
        try {
            const r = await checkDeployment({ kind: "aws-beanstalk", url: s.url, imageId: ID }, { imageId: ID }, FAST);
            assert.strictEqual(r.ok, false);
            assert.match(r.detail, /^no answer within \d+ ms \(gave up after \d+ attempts in 2 s\)$/);
            assert.ok(Date.now() - started < FAST.timeoutMs + 1_000, `took ${Date.now() - started} ms`);
        } finally {
            await s.close();
        }
    });

    it("fails a deployment exported with another image ID without asking it", async () => {
        const [r] = await verify({ imageId: ID, deployments: [{ kind: "heroku", url: "http://127.0.0.1:1", imageId: OTHER }] }, {}, FAST);
        assert.strictEqual(r.ok, false);
        assert.strictEqual(r.detail, `exported with imageId ${OTHER}, the stack's is ${ID}`);
    });
});

describe("verify: the command", () => {
    it("prints one line per target and exits 1 naming each target that failed", async () => {
        const good = await server([[200, health(ID, "c0ffee", "0.1.0")]]);
        const bad = await server([[200, health(OTHER, "c0ffee", "0.1.0")]]);
        try {
            const outputs = JSON.stringify({ imageId: ID, deployments: { local: { url: good.url, imageId: ID }, heroku: { url: bad.url, imageId: ID } } });
            const result = await runCli(outputs, ["--commit", "c0ffee", "--version", "0.1.0", "--timeout", "2"]);
            assert.strictEqual(result.code, 1);
            const lines = result.stdout.trim().split("\n");
            assert.strictEqual(lines.length, 2);
            assert.match(lines[0], new RegExp(`^ok    local  ${good.url}  ${ID}  \\d+ ms$`));
            assert.match(lines[1], new RegExp(`^FAIL  heroku  ${bad.url}  reports imageid ${OTHER}, expected ${ID}`));
            assert.strictEqual(result.stderr.trim(), `verify: heroku did not prove ${ID}`);
        } finally {
            await good.close();
            await bad.close();
        }
    });

    it("exits 0 when every target proves the bits; any commit for a rollback", async () => {
        const s = await server([[200, health(ID, "an-older-commit", "0.0.9")]]);
        try {
            const result = await runCli(JSON.stringify({ imageId: ID, deployments: { local: { url: s.url, imageId: ID } } }), ["--any-commit", "--any-version", "--timeout", "2"]);
            assert.strictEqual(result.code, 0, result.stderr);
        } finally {
            await s.close();
        }
    });

    it("refuses unknown arguments with its usage", async () => {
        const result = await runCli("{}", ["--nope"]);
        assert.strictEqual(result.code, 2);
        assert.match(result.stderr, /^usage: verify/);
    });
});
