/**
 * scripts/verify.ts against real HTTP servers on loopback: a match, every kind of mismatch, slow
 * starts, bad JSON and a server that never answers, and the bounded burst of `--load`.
 * (test/engine/deployLocal.test.ts runs it against the deployed container.)
 */
import * as assert from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";

import { LOAD_LIMITS, burst, checkDeployment, formatLoad, mismatch, percentile, readOutputs, verify, type LoadResult, type Options } from "../scripts/verify";
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
        // Loaded as scripts/verify.sh loads it: through the program's own TypeScript hook.
        const child = spawn(process.execPath, ["--require", "./scripts/register.js", "--eval", 'require("./scripts/verify").main(process.argv.slice(1))', "--", ...args], { cwd: ROOT, env });
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

/**
 * A /healthcheck that answers `status` after `delayMs`, counting requests and the most in flight at
 * once; `every5xx` makes every nth answer a 503.
 */
async function loadServer(opts: { delayMs?: number; every5xx?: number } = {}): Promise<{ url: string; hits: () => number; peak: () => number; close: () => Promise<void> }> {
    let hits = 0;
    let inFlight = 0;
    let peak = 0;
    const srv = http.createServer((req, res) => {
        const n = ++hits;
        inFlight++;
        peak = Math.max(peak, inFlight);
        setTimeout(() => {
            inFlight--;
            const failing = opts.every5xx !== undefined && n % opts.every5xx === 0;
            res.writeHead(failing ? 503 : 200, { "content-type": "application/json" }).end(health(ID));
        }, opts.delayMs ?? 0);
    });
    await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
        hits: () => hits,
        peak: () => peak,
        close: async () => {
            srv.closeAllConnections();
            await new Promise((r) => srv.close(r));
        },
    };
}

const THRESHOLDS = { errorRatePercent: 5, latencyP99Ms: 1000, unhealthyMinutes: 3 };

describe("verify --load: a bounded burst, measured against the alert thresholds", function () {
    this.timeout(60_000);

    it("percentiles by nearest rank", () => {
        const ms = Array.from({ length: 100 }, (_, i) => i + 1);
        assert.deepStrictEqual([percentile(ms, 50), percentile(ms, 99), percentile(ms, 100), percentile([7], 99), percentile([], 99)], [50, 99, 100, 7, 0]);
        assert.strictEqual(percentile([30, 10, 20], 50), 20, "unsorted input");
    });

    it("sends exactly the requests asked for, never more at once than the concurrency, and measures what came back", async () => {
        const s = await loadServer({ delayMs: 20 });
        try {
            const r = await burst({ kind: "local", url: s.url, imageId: ID }, { requests: 40, concurrency: 4, maxMs: 20_000, requestTimeoutMs: 5_000 });
            assert.strictEqual(s.hits(), 40);
            assert.ok(s.peak() <= 4 && s.peak() >= 2, `peak ${s.peak()}`);
            assert.deepStrictEqual([r.answered, r.unanswered, r.status5xx, r.cutShort], [40, 0, 0, false]);
            assert.ok(r.p50Ms >= 20 && r.p99Ms >= r.p50Ms, `p50 ${r.p50Ms}, p99 ${r.p99Ms}`);
            // 4 at a time, 20 ms each: about 200 requests a second at best.
            assert.ok(r.requestsPerSecond > 10 && r.requestsPerSecond < 250, `${r.requestsPerSecond} req/s`);
        } finally {
            await s.close();
        }
    });

    it("stops at its time limit, however many requests are left", async () => {
        const s = await loadServer({ delayMs: 200 });
        try {
            const started = Date.now();
            const r = await burst({ kind: "local", url: s.url, imageId: ID }, { requests: 1_000, concurrency: 2, maxMs: 600, requestTimeoutMs: 5_000 });
            assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
            assert.ok(r.cutShort);
            assert.ok(s.hits() < 20, `${s.hits()} requests sent`);
        } finally {
            await s.close();
        }
    });

    it("counts 5xx answers and requests that got no answer", async () => {
        const s = await loadServer({ every5xx: 4 });
        try {
            const r = await burst({ kind: "local", url: s.url, imageId: ID }, { requests: 20, concurrency: 1, maxMs: 20_000, requestTimeoutMs: 5_000 });
            assert.deepStrictEqual([r.answered, r.status5xx], [20, 5]);
        } finally {
            await s.close();
        }
        const refused = await burst({ kind: "local", url: "http://127.0.0.1:9", imageId: ID }, { requests: 5, concurrency: 1, maxMs: 5_000, requestTimeoutMs: 1_000 });
        assert.deepStrictEqual([refused.answered, refused.unanswered], [0, 5]);
    });

    it("prints req/s, p50, p99 and the failed share next to the thresholds, marking what is over", () => {
        const r: LoadResult = { kind: "gcp-cloudrun", url: "https://x", answered: 190, unanswered: 0, status5xx: 10, durationMs: 2_000, requestsPerSecond: 95, p50Ms: 40, p99Ms: 1_200, cutShort: false };
        assert.strictEqual(formatLoad(r, THRESHOLDS), "load  gcp-cloudrun  190 requests in 2.0 s: 95.0 req/s, p50 40 ms, p99 1200 ms (alarm above 1000 ms  OVER), 5xx or no answer 5.3 % (alarm above 5 %  OVER)");
        assert.strictEqual(formatLoad({ ...r, status5xx: 0, p99Ms: 80, cutShort: true }, THRESHOLDS), "load  gcp-cloudrun  190 requests in 2.0 s (time limit): 95.0 req/s, p50 40 ms, p99 80 ms (alarm above 1000 ms), 5xx or no answer 0.0 % (alarm above 5 %)");
        assert.match(formatLoad(r, undefined), /p99 1200 ms, 5xx or no answer 5\.3 %; the stack exports no alert thresholds/);
    });

    it("reads the thresholds the stack exports", () => {
        const json = (alerts: unknown) => JSON.stringify({ imageId: ID, deployments: {}, alerts });
        assert.deepStrictEqual(readOutputs(json(THRESHOLDS)).alerts, THRESHOLDS);
        assert.strictEqual(readOutputs(json({ errorRatePercent: "5" })).alerts, undefined);
    });
});

describe("verify --load: the command", function () {
    this.timeout(90_000);

    it("bursts every target that proved its bits, one line each with the stack's thresholds; a failed target gets none", async () => {
        const good = await loadServer();
        const bad = await server([[200, health(OTHER)]]);
        try {
            const outputs = JSON.stringify({ imageId: ID, alerts: THRESHOLDS, deployments: { local: { url: good.url, imageId: ID }, heroku: { url: bad.url, imageId: ID } } });
            const result = await runCli(outputs, ["--any-commit", "--any-version", "--timeout", "1", "--load", "--load-requests", "30", "--load-concurrency", "3"]);
            assert.strictEqual(result.code, 1, "the exit status is the health check's");
            const lines = result.stdout.trim().split("\n");
            assert.strictEqual(lines.length, 3, result.stdout);
            assert.match(lines[2], /^load  local  30 requests in \d+\.\d s: \d+\.\d req\/s, p50 \d+ ms, p99 \d+ ms \(alarm above 1000 ms\), 5xx or no answer 0\.0 % \(alarm above 5 %\)$/);
            // One health check, then the burst.
            assert.strictEqual(good.hits(), 31);
            assert.strictEqual(bad.hits() <= 3, true, `the failed target got ${bad.hits()} requests`);
        } finally {
            await good.close();
            await bad.close();
        }
    });

    it("a burst over a threshold is marked, and the exit status stays the health check's", async () => {
        const s = await loadServer({ every5xx: 2 });
        try {
            // Every second answer is a 503, the first one (the health check) included: let it retry.
            const outputs = JSON.stringify({ imageId: ID, alerts: THRESHOLDS, deployments: { local: { url: s.url, imageId: ID } } });
            const result = await runCli(outputs, ["--any-commit", "--any-version", "--timeout", "5", "--load", "--load-requests", "20"]);
            assert.strictEqual(result.code, 0, result.stderr);
            assert.match(result.stdout, /^load  local  20 requests .*5xx or no answer (45|50)\.0 % \(alarm above 5 %  OVER\)$/m);
        } finally {
            await s.close();
        }
    });

    it("refuses a burst past its limits, and burst settings without --load, with its usage", async () => {
        for (const args of [["--load", "--load-requests", String(LOAD_LIMITS.requests + 1)], ["--load", "--load-concurrency", "0"], ["--load", "--load-seconds", "600"], ["--load-requests", "10"]]) {
            const result = await runCli("{}", args);
            assert.strictEqual(result.code, 2, args.join(" "));
            assert.match(result.stderr, /^usage: verify .*--load/, args.join(" "));
        }
    });
});
