/**
 * Post-deploy check: every deployment a stack exports answers GET /healthcheck with 200 and reports
 * the stack's image ID (`imageid`, from the IMAGE_ID each target sets), and, unless told otherwise,
 * this checkout's commit and version. Retries with backoff until a deadline (a new release can take
 * a while to serve); prints one line per target; exits 1 naming every target that failed.
 *
 * Reads `pulumi stack output --json` on stdin (scripts/verify.sh does that for a stack).
 *
 * A deployment that exports an `origin` (a load balancer's own name) is checked there, with its
 * url's host as the TLS server name and Host header: a first deploy proves the bits before anyone
 * could point the domain's DNS at a load balancer that `up` just created. The line says so, and
 * names the DNS record (`dnsRecord`) while the domain does not resolve, whether or not the origin answered.
 *
 * With `--load`, every target that proved its bits then gets a short, bounded burst of GET
 * /healthcheck (a number of requests, so many at a time, within a time limit), and one line with
 * the requests per second, the 5xx share and the p99 measured next to the alert thresholds the stack
 * exports (`alerts`): the headroom before an alarm would fire. The burst never changes the exit status.
 */
import { lookup } from "dns/promises";
import * as http from "http";
import * as https from "https";

import { commitSha, packageVersion } from "../buildFacts";

export interface Expected {
    readonly imageId: string;
    /** `undefined`: any commit (a rollback runs an older one). */
    readonly commit?: string;
    readonly version?: string;
}

export interface Deployed {
    readonly kind: string;
    readonly url: string;
    readonly imageId: string;
    /** `host[:port]` to connect to instead of the url's host. */
    readonly origin?: string;
    readonly dnsRecord?: string;
}

export interface Options {
    /** Give up on a target after this long. */
    readonly timeoutMs: number;
    /** One request's limit. */
    readonly requestTimeoutMs: number;
    /** First pause between attempts; doubles up to `maxDelayMs`. */
    readonly firstDelayMs: number;
    readonly maxDelayMs: number;
}

export const DEFAULTS: Options = { timeoutMs: 300_000, requestTimeoutMs: 10_000, firstDelayMs: 1_000, maxDelayMs: 15_000 };

export interface Result {
    readonly kind: string;
    readonly url: string;
    readonly ok: boolean;
    /** What /healthcheck reported, or why it could not be read. */
    readonly detail: string;
    readonly latencyMs?: number;
    readonly attempts: number;
    readonly origin?: string;
    /** Set when the url's domain does not resolve yet: the record to create. */
    readonly dnsNeeded?: string;
}

/** What the stack's alarms fire on (its `alerts` output). */
export interface Thresholds {
    readonly errorRatePercent: number;
    readonly latencyP99Ms: number;
    readonly unhealthyMinutes: number;
}

function thresholdsOf(value: unknown): Thresholds | undefined {
    const t = value as Partial<Record<keyof Thresholds, unknown>> | null | undefined;
    if (typeof t !== "object" || t === null) return undefined;
    if (typeof t.errorRatePercent !== "number" || typeof t.latencyP99Ms !== "number" || typeof t.unhealthyMinutes !== "number") return undefined;
    return { errorRatePercent: t.errorRatePercent, latencyP99Ms: t.latencyP99Ms, unhealthyMinutes: t.unhealthyMinutes };
}

/** The deployments of `pulumi stack output --json`, with the stack's image ID (and its alert thresholds, when it exports them). */
export function readOutputs(json: string): { imageId: string; deployments: Deployed[]; alerts?: Thresholds } {
    let outputs: { imageId?: unknown; deployments?: unknown; alerts?: unknown };
    try {
        outputs = JSON.parse(json) as typeof outputs;
    } catch {
        throw new Error("the stack's outputs are not JSON (expected `pulumi stack output --json`)");
    }
    if (typeof outputs.imageId !== "string" || typeof outputs.deployments !== "object" || outputs.deployments === null) {
        throw new Error("the stack exports no imageId and deployments: has it been deployed (pulumi up)?");
    }
    const deployments = Object.entries(outputs.deployments as Record<string, { url?: unknown; imageId?: unknown; origin?: unknown; dnsRecord?: unknown }>).map(([kind, d]) => ({
        kind,
        url: String(d?.url ?? ""),
        imageId: String(d?.imageId ?? ""),
        ...(typeof d?.origin === "string" ? { origin: d.origin } : {}),
        ...(typeof d?.dnsRecord === "string" ? { dnsRecord: d.dnsRecord } : {}),
    }));
    const alerts = thresholdsOf(outputs.alerts);
    return { imageId: outputs.imageId, deployments, ...(alerts ? { alerts } : {}) };
}

/** Why a /healthcheck body does not prove the expected bits, or undefined when it does. */
export function mismatch(body: unknown, expected: Expected): string | undefined {
    const entry = (body as { myapplication?: Array<Record<string, unknown>> } | null)?.myapplication?.[0];
    if (!entry) return `not the healthcheck format ({"myapplication": [{…}]}): ${JSON.stringify(body).slice(0, 120)}`;
    if (entry.imageid !== expected.imageId) return `reports imageid ${String(entry.imageid)}, expected ${expected.imageId}`;
    if (expected.commit !== undefined && entry.lastcommitsha !== expected.commit) return `reports commit ${String(entry.lastcommitsha)}, expected ${expected.commit}`;
    if (expected.version !== undefined && entry.version !== expected.version) return `reports version ${String(entry.version)}, expected ${expected.version}`;
    return undefined;
}

/** GET <url>/healthcheck, through `origin` when given (the url's host stays the TLS name and Host). */
function get(url: string, origin: string | undefined, timeoutMs: number): Promise<{ status: number; text: string }> {
    const target = new URL(`${url.replace(/\/$/, "")}/healthcheck`);
    const via = origin ? new URL(`${target.protocol}//${origin}`) : target;
    const client = target.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
        const req = client.request(
            {
                host: via.hostname,
                port: via.port || (target.protocol === "https:" ? 443 : 80),
                path: `${target.pathname}${target.search}`,
                method: "GET",
                headers: { Host: target.host },
                servername: target.hostname,
                timeout: timeoutMs,
            },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
                res.on("error", reject);
            },
        );
        req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: "TimeoutError" })));
        req.on("error", reject);
        req.end();
    });
}

async function attempt(url: string, origin: string | undefined, expected: Expected, requestTimeoutMs: number): Promise<{ ok: boolean; detail: string; latencyMs: number }> {
    const started = Date.now();
    try {
        const res = await get(url, origin, requestTimeoutMs);
        const text = res.text;
        const latencyMs = Date.now() - started;
        // A redirect is not the app's answer: the check never follows one (as before, with fetch's redirect: "error").
        if (res.status !== 200) return { ok: false, detail: `HTTP ${res.status}`, latencyMs };
        let body: unknown;
        try {
            body = JSON.parse(text);
        } catch {
            return { ok: false, detail: `not JSON: ${JSON.stringify(text.slice(0, 80))}`, latencyMs };
        }
        const wrong = mismatch(body, expected);
        return wrong ? { ok: false, detail: wrong, latencyMs } : { ok: true, detail: expected.imageId, latencyMs };
    } catch (err) {
        const e = err as Error & { code?: string };
        const why = e.name === "TimeoutError" ? `no answer within ${requestTimeoutMs} ms` : (e.code ?? e.message);
        return { ok: false, detail: why, latencyMs: Date.now() - started };
    }
}

/** The record still to create when the url's domain does not resolve (checked only with an origin). */
async function dnsNeeded(d: Deployed): Promise<string | undefined> {
    if (!d.origin) return undefined;
    try {
        await lookup(new URL(d.url).hostname);
        return undefined;
    } catch {
        return d.dnsRecord ?? `${new URL(d.url).hostname} → ${d.origin}`;
    }
}

/** Checks one deployment until it proves the bits or the deadline passes. */
export async function checkDeployment(d: Deployed, expected: Expected, options: Options = DEFAULTS): Promise<Result> {
    const deadline = Date.now() + options.timeoutMs;
    let delay = options.firstDelayMs;
    let attempts = 0;
    for (;;) {
        attempts++;
        const remaining = deadline - Date.now();
        const got = await attempt(d.url, d.origin, expected, Math.max(1, Math.min(options.requestTimeoutMs, remaining)));
        const via = d.origin ? { origin: d.origin } : {};
        if (got.ok) {
            const dns = await dnsNeeded(d);
            return { kind: d.kind, url: d.url, ok: true, detail: got.detail, latencyMs: got.latencyMs, attempts, ...via, ...(dns ? { dnsNeeded: dns } : {}) };
        }
        // No attempt starts that could not get its whole request time: the answer reported is the
        // last one a request had time for, not a timeout the deadline made.
        if (Date.now() + delay + options.requestTimeoutMs > deadline) {
            const dns = await dnsNeeded(d);
            return { kind: d.kind, url: d.url, ok: false, detail: `${got.detail} (gave up after ${attempts} attempts in ${Math.round(options.timeoutMs / 1000)} s)`, attempts, ...via, ...(dns ? { dnsNeeded: dns } : {}) };
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, options.maxDelayMs);
    }
}

/** Every deployment, in parallel; each must also be exported with the stack's image ID. */
export async function verify(outputs: { imageId: string; deployments: Deployed[] }, expected: Omit<Expected, "imageId">, options: Options = DEFAULTS): Promise<Result[]> {
    const want: Expected = { ...expected, imageId: outputs.imageId };
    return Promise.all(
        outputs.deployments.map((d) =>
            d.imageId !== outputs.imageId
                ? Promise.resolve({ kind: d.kind, url: d.url, ok: false, detail: `exported with imageId ${d.imageId}, the stack's is ${outputs.imageId}`, attempts: 0 })
                : checkDeployment(d, want, options),
        ),
    );
}

export function formatResult(r: Result): string {
    const via = r.origin ? `  (through ${r.origin})` : "";
    const line = r.ok ? `ok    ${r.kind}  ${r.url}  ${r.detail}  ${r.latencyMs} ms${via}` : `FAIL  ${r.kind}  ${r.url}  ${r.detail}${via}`;
    return r.dnsNeeded ? `${line}\nnote  ${r.kind}  ${new URL(r.url).hostname} does not resolve yet: create ${r.dnsNeeded}` : line;
}

/** The burst `--load` sends to each target. */
export interface LoadOptions {
    readonly requests: number;
    /** Requests in flight at once. */
    readonly concurrency: number;
    /** The burst ends here, however many requests are left. */
    readonly maxMs: number;
    readonly requestTimeoutMs: number;
}

export const LOAD_DEFAULTS: LoadOptions = { requests: 200, concurrency: 10, maxMs: 20_000, requestTimeoutMs: 10_000 };
/** The most `--load` will send: a check, not a load test. */
export const LOAD_LIMITS = { requests: 5_000, concurrency: 100, seconds: 120 } as const;

export interface LoadResult {
    readonly kind: string;
    readonly url: string;
    /** Requests answered (any status). */
    readonly answered: number;
    /** Requests that got no answer (refused, reset, timed out). */
    readonly unanswered: number;
    readonly status5xx: number;
    readonly durationMs: number;
    readonly requestsPerSecond: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    /** The time limit ended the burst before every request was sent. */
    readonly cutShort: boolean;
}

/** The `p`th percentile (nearest rank) of `values`; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
    if (values.length === 0) return 0;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Sends the burst to one deployment's /healthcheck (through its origin, as the check does). */
export async function burst(d: Deployed, options: LoadOptions = LOAD_DEFAULTS): Promise<LoadResult> {
    const started = Date.now();
    const deadline = started + options.maxMs;
    const latencies: number[] = [];
    let next = 0;
    let unanswered = 0;
    let status5xx = 0;
    const worker = async (): Promise<void> => {
        while (next < options.requests && Date.now() < deadline) {
            next++;
            const sent = Date.now();
            try {
                const res = await get(d.url, d.origin, Math.max(1, Math.min(options.requestTimeoutMs, deadline - sent)));
                latencies.push(Date.now() - sent);
                if (res.status >= 500) status5xx++;
            } catch {
                unanswered++;
            }
        }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, options.requests)) }, worker));
    const durationMs = Math.max(1, Date.now() - started);
    const answered = latencies.length;
    return {
        kind: d.kind,
        url: d.url,
        answered,
        unanswered,
        status5xx,
        durationMs,
        requestsPerSecond: (answered * 1000) / durationMs,
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        cutShort: next < options.requests,
    };
}

/** One line: what the burst measured, each next to the threshold its alarm fires at. */
export function formatLoad(r: LoadResult, t: Thresholds | undefined): string {
    const total = r.answered + r.unanswered;
    const failedPercent = total === 0 ? 0 : (100 * (r.status5xx + r.unanswered)) / total;
    const over = (bad: boolean) => (bad ? "  OVER" : "");
    const p99 = t ? `p99 ${r.p99Ms} ms (alarm above ${t.latencyP99Ms} ms${over(r.p99Ms > t.latencyP99Ms)})` : `p99 ${r.p99Ms} ms`;
    const errors = t ? `5xx or no answer ${failedPercent.toFixed(1)} % (alarm above ${t.errorRatePercent} %${over(failedPercent > t.errorRatePercent)})` : `5xx or no answer ${failedPercent.toFixed(1)} %`;
    const head = `load  ${r.kind}  ${total} requests in ${(r.durationMs / 1000).toFixed(1)} s${r.cutShort ? " (time limit)" : ""}: ${r.requestsPerSecond.toFixed(1)} req/s, p50 ${r.p50Ms} ms, ${p99}, ${errors}`;
    return t ? head : `${head}; the stack exports no alert thresholds (pulumi up with this version)`;
}

function usage(): never {
    console.error(
        "usage: verify (reads `pulumi stack output --json` on stdin) [--commit SHA | --any-commit] [--version V | --any-version] [--timeout SECONDS] " +
            `[--load [--load-requests N (≤ ${LOAD_LIMITS.requests})] [--load-concurrency N (≤ ${LOAD_LIMITS.concurrency})] [--load-seconds S (≤ ${LOAD_LIMITS.seconds})]]`,
    );
    process.exit(2);
}

/** A whole number from 1 to `max`, or the usage. */
function bounded(text: string | undefined, max: number): number {
    if (!/^\d+$/.test(text ?? "") || Number(text) < 1 || Number(text) > max) usage();
    return Number(text);
}

/** The command line: stdin is the stack's outputs. Exits 0 when every target proves the bits. */
export async function main(argv: readonly string[]): Promise<void> {
    let commit: string | undefined = commitSha();
    let version: string | undefined = packageVersion();
    let options = DEFAULTS;
    let load: LoadOptions | undefined;
    let loadSettings: Partial<LoadOptions> = {};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--load") load = LOAD_DEFAULTS;
        else if (arg === "--load-requests") loadSettings = { ...loadSettings, requests: bounded(argv[++i], LOAD_LIMITS.requests) };
        else if (arg === "--load-concurrency") loadSettings = { ...loadSettings, concurrency: bounded(argv[++i], LOAD_LIMITS.concurrency) };
        else if (arg === "--load-seconds") loadSettings = { ...loadSettings, maxMs: bounded(argv[++i], LOAD_LIMITS.seconds) * 1000 };
        else if (arg === "--commit" && argv[i + 1]) commit = argv[++i];
        else if (arg === "--any-commit") commit = undefined;
        else if (arg === "--version" && argv[i + 1]) version = argv[++i];
        else if (arg === "--any-version") version = undefined;
        else if (arg === "--timeout" && /^\d+$/.test(argv[i + 1] ?? "")) options = { ...options, timeoutMs: Number(argv[++i]) * 1000 };
        else usage();
    }
    if (Object.keys(loadSettings).length > 0 && !load) usage();
    if (load) load = { ...load, ...loadSettings };
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    let outputs;
    try {
        outputs = readOutputs(Buffer.concat(chunks).toString("utf8"));
    } catch (err) {
        console.error(`verify: ${(err as Error).message}`);
        process.exit(1);
    }
    if (outputs.deployments.length === 0) {
        console.error("verify: the stack exports no deployments");
        process.exit(1);
    }
    const results = await verify(outputs, { commit, version }, options);
    for (const r of results) console.log(formatResult(r));
    if (load) {
        // One target at a time: each burst measures its target, not the machine sending them all.
        for (const r of results.filter((x) => x.ok)) {
            const d = outputs.deployments.find((x) => x.kind === r.kind)!;
            console.log(formatLoad(await burst(d, load), outputs.alerts));
        }
    }
    const failed = results.filter((r) => !r.ok).map((r) => r.kind);
    if (failed.length > 0) {
        console.error(`verify: ${failed.join(", ")} did not prove ${outputs.imageId}`);
        process.exit(1);
    }
}
