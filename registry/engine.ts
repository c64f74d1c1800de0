/**
 * The Docker Engine API calls a push needs — tag an image, push it with one registry's login, drop a
 * local tag — spoken directly to the engine the program uses, so the login travels in the request's
 * X-Registry-Auth header and never in a file or in the host's `docker login`.
 *
 * The engine is the provider's `docker:host`, else DOCKER_HOST, else the docker CLI's current
 * context, else the default socket: the engine the Docker provider plugin talks to.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";

export class EngineError extends Error {
    constructor(
        message: string,
        readonly status: number,
    ) {
        super(message);
        this.name = "EngineError";
    }
}

export interface EngineAddress {
    readonly socketPath?: string;
    readonly host?: string;
    readonly port?: number;
    readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
}

/** The docker CLI's current context's endpoint, if the CLI is there and says one. */
function contextHost(): string | undefined {
    try {
        return execFileSync("docker", ["context", "inspect", "--format", "{{.Endpoints.docker.Host}}"], { stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 }).toString().trim() || undefined;
    } catch {
        return undefined;
    }
}

/** Where the engine listens, from `host` (unix:// or tcp://) and the environment, as docker reads them. */
export function engineAddress(host: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env, context: () => string | undefined = contextHost): EngineAddress {
    const address = host || env.DOCKER_HOST || context() || "unix:///var/run/docker.sock";
    if (address.startsWith("unix://")) return { socketPath: address.slice("unix://".length) };
    const tcp = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(address);
    if (!tcp) throw new EngineError(`the Docker engine address ${address} is neither unix:// nor tcp://host:port; set docker:host or DOCKER_HOST to one`, 0);
    const secure = Boolean(env.DOCKER_TLS_VERIFY) || Boolean(env.DOCKER_CERT_PATH);
    if (!secure) return { host: tcp[1], port: Number(tcp[2]) };
    const dir = env.DOCKER_CERT_PATH || path.join(os.homedir(), ".docker");
    const read = (file: string) => (fs.existsSync(path.join(dir, file)) ? fs.readFileSync(path.join(dir, file)) : undefined);
    return { host: tcp[1], port: Number(tcp[2]), tls: { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem") } };
}

interface Answer {
    readonly status: number;
    readonly body: string;
}

function request(address: EngineAddress, method: string, pathAndQuery: string, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
        const options: https.RequestOptions = {
            method,
            path: pathAndQuery,
            headers: { ...headers, "Content-Type": "application/json" },
            ...(address.socketPath ? { socketPath: address.socketPath } : { host: address.host, port: address.port }),
            ...(address.tls ?? {}),
        };
        const req = (address.tls ? https : http).request(options, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
            res.on("error", reject);
        });
        req.on("error", (err) => reject(new EngineError(`cannot reach the Docker engine (${address.socketPath ?? `${address.host}:${address.port}`}): ${err.message}`, 0)));
        req.end();
    });
}

/** A request whose answer is read as a stream (an image export); a non-200 answer is an EngineError. */
export function requestStream(address: EngineAddress, method: string, pathAndQuery: string, what: string): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
        const options: https.RequestOptions = {
            method,
            path: pathAndQuery,
            ...(address.socketPath ? { socketPath: address.socketPath } : { host: address.host, port: address.port }),
            ...(address.tls ?? {}),
        };
        const req = (address.tls ? https : http).request(options, (res) => {
            if (res.statusCode === 200) return resolve(res);
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => reject(new EngineError(`${what}: ${engineMessage({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") })}`, res.statusCode ?? 0)));
            res.on("error", reject);
        });
        req.on("error", (err) => reject(new EngineError(`cannot reach the Docker engine (${address.socketPath ?? `${address.host}:${address.port}`}): ${err.message}`, 0)));
        req.end();
    });
}

function engineMessage(answer: Answer): string {
    try {
        return (JSON.parse(answer.body) as { message?: string }).message ?? answer.body;
    } catch {
        return answer.body;
    }
}

/** The engine's API version (`docker version`'s "API version"), e.g. "1.51". */
export async function engineApiVersion(address: EngineAddress): Promise<string> {
    const answer = await request(address, "GET", "/version");
    if (answer.status !== 200) throw new EngineError(`docker version: ${engineMessage(answer)}`, answer.status);
    const version = (JSON.parse(answer.body) as { ApiVersion?: unknown }).ApiVersion;
    if (typeof version !== "string") throw new EngineError(`docker version: no ApiVersion in ${answer.body.slice(0, 200)}`, answer.status);
    return version;
}

/** Whether API version `version` is at least `least`, compared number by number (1.9 < 1.44). */
export function apiAtLeast(version: string, least: string): boolean {
    const [a, b] = [version, least].map((v) => v.split(".").map(Number));
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        const [x, y] = [a[i] ?? 0, b[i] ?? 0];
        if (x !== y) return x > y;
    }
    return true;
}

/** The X-Registry-Auth header value of a login: URL-safe base64 with padding, as the engine decodes it. */
export function registryAuthHeader(login: { username?: string; password?: string; serveraddress: string }): string {
    return Buffer.from(JSON.stringify(login)).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** What `docker image inspect` says of an image: its ID and, on the containerd store only, the descriptor of what it stores. */
export interface LocalImage {
    readonly id: string;
    /** The stored manifest or index (the containerd image store); the classic store stores none. */
    readonly descriptor?: { readonly mediaType: string; readonly digest: string };
}

/** `docker image inspect NAME`. */
export async function inspectImage(address: EngineAddress, name: string): Promise<LocalImage> {
    const answer = await request(address, "GET", `/images/${encodeURIComponent(name)}/json`);
    if (answer.status !== 200) throw new EngineError(`docker image inspect ${name}: ${engineMessage(answer)}`, answer.status);
    const inspect = JSON.parse(answer.body) as { Id: string; Descriptor?: { mediaType: string; digest: string } };
    return { id: inspect.Id, ...(inspect.Descriptor ? { descriptor: { mediaType: inspect.Descriptor.mediaType, digest: inspect.Descriptor.digest } } : {}) };
}

/** `docker tag SOURCE REPOSITORY:TAG`. */
export async function tagImage(address: EngineAddress, source: string, repository: string, tag: string): Promise<void> {
    const answer = await request(address, "POST", `/images/${encodeURIComponent(source)}/tag?repo=${encodeURIComponent(repository)}&tag=${encodeURIComponent(tag)}`);
    if (answer.status !== 201 && answer.status !== 200) throw new EngineError(`docker tag ${source} ${repository}:${tag}: ${engineMessage(answer)}`, answer.status);
}

/**
 * `docker push REPOSITORY:TAG` with one login; returns the manifest digest the engine pushed. The
 * engine answers 200 and reports a failed push inside its progress stream, so the stream is read.
 */
export async function pushImage(address: EngineAddress, repository: string, tag: string, login: { username?: string; password?: string; server: string }): Promise<string> {
    const auth = registryAuthHeader({ username: login.username, password: login.password, serveraddress: login.server });
    const answer = await request(address, "POST", `/images/${encodeURIComponent(repository)}/push?tag=${encodeURIComponent(tag)}`, { "X-Registry-Auth": auth });
    if (answer.status !== 200) throw new EngineError(`docker push ${repository}:${tag}: ${engineMessage(answer)}`, answer.status);
    let digest = "";
    for (const line of answer.body.split("\n")) {
        if (!line.trim()) continue;
        const message = JSON.parse(line) as { error?: string; errorDetail?: { message?: string }; aux?: { Digest?: string }; status?: string };
        if (message.error || message.errorDetail) throw new EngineError(`docker push ${repository}:${tag}: ${message.errorDetail?.message ?? message.error}`, 0);
        // The classic store reports the digest in an aux message; the containerd store (Engine 28)
        // only in its last status line, "<tag>: digest: sha256:… size: …".
        const said = /^(\S+): digest: (sha256:[0-9a-f]{64}) size: \d+$/.exec(message.status ?? "");
        if (message.aux?.Digest) digest = message.aux.Digest;
        else if (said?.[1] === tag && !digest) digest = said[2];
    }
    if (!digest) throw new EngineError(`docker push ${repository}:${tag} reported no digest`, 0);
    return digest;
}

/** `docker rmi --no-prune REPOSITORY:TAG`; a tag that is already gone is not an error. */
export async function untagImage(address: EngineAddress, repository: string, tag: string): Promise<void> {
    const answer = await request(address, "DELETE", `/images/${encodeURIComponent(`${repository}:${tag}`)}?noprune=true`);
    if (answer.status !== 200 && answer.status !== 404 && answer.status !== 409) throw new EngineError(`docker rmi ${repository}:${tag}: ${engineMessage(answer)}`, answer.status);
}
