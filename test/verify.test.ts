/**
 * scripts/verify.ts against real HTTP servers on loopback: a match, every kind of mismatch, slow
 * starts, bad JSON and a server that never answers. (test/engine/deployLocal.test.ts runs it
 * against the deployed container.)
 */
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";

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

function runCli(stdin: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["--require", "ts-node/register/transpile-only", "--eval", 'require("./scripts/verify").main(process.argv.slice(1))', "--", ...args], { cwd: ROOT, env });
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

describe("verify: the command", function () {
    // Each test starts the command in a Node.js process of its own (ts-node), seconds on a busy machine.
    this.timeout(90_000);
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

describe("verify: a first deploy, before the domain's DNS points at the load balancer", function () {
    // Each test starts the command in a Node.js process of its own (ts-node), seconds on a busy machine.
    this.timeout(90_000);
    const DOMAIN = "app.onedigest.test";
    let dir = "";
    let srv: https.Server;
    let origin = "";

    before(async function () {
        // A certificate for the domain, as the load balancer would serve it (ACM's), trusted by the check.
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-verify-tls-"));
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${DOMAIN}`, "-addext", `subjectAltName=DNS:${DOMAIN}`, "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "ignore" });
        srv = https.createServer({ key: fs.readFileSync(path.join(dir, "key.pem")), cert: fs.readFileSync(path.join(dir, "cert.pem")) }, (req, res) => {
            // A load balancer's listener routes on the Host header: anything else is not this app.
            if (req.headers.host !== DOMAIN) return void res.writeHead(404).end();
            res.writeHead(200, { "content-type": "application/json" }).end(health(ID));
        });
        await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
        origin = `127.0.0.1:${(srv.address() as AddressInfo).port}`;
    });

    after(async function () {
        srv?.closeAllConnections();
        await new Promise((r) => srv?.close(r));
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    const outputs = (deployment: Record<string, unknown>) => JSON.stringify({ imageId: ID, deployments: { "aws-ecs": { url: `https://${DOMAIN}`, imageId: ID, ...deployment } } });
    const withCa = () => ({ ...process.env, NODE_EXTRA_CA_CERTS: path.join(dir, "cert.pem") });

    it("checks the origin with the domain as TLS name and Host, and names the DNS record to create", async () => {
        const result = await runCli(outputs({ origin, dnsRecord: `${DOMAIN} CNAME lb-123.eu-west-1.elb.amazonaws.com` }), ["--any-commit", "--any-version", "--timeout", "3"], withCa());
        assert.strictEqual(result.code, 0, result.stderr);
        assert.match(result.stdout, new RegExp(`^ok    aws-ecs  https://${DOMAIN}  ${ID}  \\d+ ms  \\(through ${origin}\\)$`, "m"));
        assert.match(result.stdout, new RegExp(`^note  aws-ecs  ${DOMAIN} does not resolve yet: create ${DOMAIN} CNAME lb-123\\.eu-west-1\\.elb\\.amazonaws\\.com$`, "m"));
    });

    it("without an origin the same deployment cannot be reached: the domain does not resolve", async () => {
        const result = await runCli(outputs({}), ["--any-commit", "--any-version", "--timeout", "1"], withCa());
        assert.strictEqual(result.code, 1);
        assert.match(result.stdout, new RegExp(`^FAIL  aws-ecs  https://${DOMAIN}  (ENOTFOUND|EAI_AGAIN)`, "m"));
    });

    it("a certificate for another name fails the check, as it would for a user", async () => {
        const result = await runCli(JSON.stringify({ imageId: ID, deployments: { "aws-ecs": { url: "https://other.onedigest.test", imageId: ID, origin } } }), ["--any-commit", "--any-version", "--timeout", "1"], withCa());
        assert.strictEqual(result.code, 1);
        assert.match(result.stdout, /^FAIL  aws-ecs  https:\/\/other\.onedigest\.test  ERR_TLS_CERT_ALTNAME_INVALID/m);
    });

    it("an origin that does not answer yet still names the DNS record to create", async () => {
        const result = await runCli(outputs({ origin: "127.0.0.1:9", dnsRecord: `${DOMAIN} CNAME lb-123.eu-west-1.elb.amazonaws.com` }), ["--any-commit", "--any-version", "--timeout", "1"], withCa());
        assert.strictEqual(result.code, 1);
        assert.match(result.stdout, new RegExp(`^FAIL  aws-ecs  https://${DOMAIN}  ECONNREFUSED .*\\(through 127\\.0\\.0\\.1:9\\)$`, "m"));
        assert.match(result.stdout, new RegExp(`^note  aws-ecs  ${DOMAIN} does not resolve yet: create ${DOMAIN} CNAME lb-123\\.eu-west-1\\.elb\\.amazonaws\\.com$`, "m"));
    });
});
