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
 */
import { lookup } from "dns/promises";
import * as http from "http";
import * as https from "https";

import { commitSha, packageVersion } from "../image";

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

/** The deployments of `pulumi stack output --json`, with the stack's image ID. */
export function readOutputs(json: string): { imageId: string; deployments: Deployed[] } {
    let outputs: { imageId?: unknown; deployments?: unknown };
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
    return { imageId: outputs.imageId, deployments };
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

function usage(): never {
    console.error("usage: verify (reads `pulumi stack output --json` on stdin) [--commit SHA | --any-commit] [--version V | --any-version] [--timeout SECONDS]");
    process.exit(2);
}

/** The command line: stdin is the stack's outputs. Exits 0 when every target proves the bits. */
export async function main(argv: readonly string[]): Promise<void> {
    let commit: string | undefined = commitSha();
    let version: string | undefined = packageVersion();
    let options = DEFAULTS;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === "--commit" && argv[i + 1]) commit = argv[++i];
        else if (arg === "--any-commit") commit = undefined;
        else if (arg === "--version" && argv[i + 1]) version = argv[++i];
        else if (arg === "--any-version") version = undefined;
        else if (arg === "--timeout" && /^\d+$/.test(argv[i + 1] ?? "")) options = { ...options, timeoutMs: Number(argv[++i]) * 1000 };
        else usage();
    }
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
    const failed = results.filter((r) => !r.ok).map((r) => r.kind);
    if (failed.length > 0) {
        console.error(`verify: ${failed.join(", ")} did not prove ${outputs.imageId}`);
        process.exit(1);
    }
}
