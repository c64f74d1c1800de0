/** Thin helpers over the docker CLI and the registry HTTP API, for the pipeline tests. */
import { execFile, execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

export function docker(...args: string[]): string {
    return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 }).trim();
}

/** Runs docker and returns its exit code and output instead of throwing. */
export function dockerResult(args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        execFile("docker", args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
            resolve({ code, stdout, stderr });
        });
    });
}

/**
 * A free loopback port for something that binds it later (a container's published port, a registry).
 * Picked at random below the kernel's ephemeral range, never inside it: there, any `listen(0)` or
 * outgoing connection of the tests running in parallel can take the port between this check and
 * its use (a container once failed to start with "address already in use" that way).
 */
export async function freePort(): Promise<number> {
    const low = ephemeralLow();
    for (let attempt = 0; attempt < 50; attempt++) {
        const port = low > 11000 ? 10000 + Math.floor(Math.random() * (low - 10000)) : 0;
        const bound = await bindOnce(port);
        if (bound !== undefined) return bound;
    }
    throw new Error(`no free loopback port found below ${low}`);
}

function ephemeralLow(): number {
    try {
        return Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]) || 32768;
    } catch {
        return 32768;
    }
}

/** Binds `port` (0: any) on loopback and releases it; the port it got, or undefined if taken. */
function bindOnce(port: number): Promise<number | undefined> {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.once("error", () => resolve(undefined));
        server.listen(port, "127.0.0.1", () => {
            const { port: bound } = server.address() as net.AddressInfo;
            server.close(() => resolve(bound));
        });
    });
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
        try {
            const value = await probe();
            if (value !== undefined) return value;
        } catch (err) {
            last = err;
        }
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
        await new Promise((r) => setTimeout(r, 200));
    }
}

export const MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

export interface Manifest {
    readonly mediaType: string;
    readonly schemaVersion: number;
    readonly config: { mediaType: string; digest: string; size: number };
    readonly layers: ReadonlyArray<{ mediaType: string; digest: string }>;
}

/** GET a manifest as a v2 client does, with the headers a registry answers. */
export async function getManifest(
    registry: string,
    repo: string,
    reference: string,
    login?: { username: string; password: string },
): Promise<{ manifest: Manifest; contentType: string; digest: string }> {
    const auth: Record<string, string> = login ? { Authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}` } : {};
    const res = await fetch(`https://${registry}/v2/${repo}/manifests/${reference}`, { headers: { Accept: MANIFEST_V2, ...auth } });
    if (!res.ok) throw new Error(`GET manifest ${registry}/${repo}:${reference}: HTTP ${res.status}`);
    return {
        manifest: (await res.json()) as Manifest,
        contentType: res.headers.get("content-type") ?? "",
        digest: res.headers.get("docker-content-digest") ?? "",
    };
}

export async function getBlobJson(registry: string, repo: string, digest: string): Promise<Record<string, unknown>> {
    const res = await fetch(`https://${registry}/v2/${repo}/blobs/${digest}`);
    if (!res.ok) throw new Error(`GET blob ${digest}: HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
}

/** The engine's image store, as `docker info` reports it (the containerd store names its snapshotter). */
export function engineStore(): "classic" | "containerd" {
    const status = JSON.parse(docker("info", "--format", "{{json .DriverStatus}}") || "null") as Array<[string, string]> | null;
    return (status ?? []).some(([key, value]) => key === "driver-type" && value.startsWith("io.containerd.snapshotter")) ? "containerd" : "classic";
}

/** The store the suite started this engine with (scripts/docker-env.sh); the engine must agree. */
export function expectedStore(): "classic" | "containerd" {
    const store = process.env.ONEDIGEST_IMAGE_STORE ?? "classic";
    if (store !== "classic" && store !== "containerd") throw new Error(`ONEDIGEST_IMAGE_STORE is ${store}, not classic or containerd`);
    return store;
}

/**
 * The config digest of an image the engine holds, from its export (`docker save`): manifest.json
 * names the config blob, whose bytes are hashed here, so the digest is the bits', not a label's.
 */
export function savedConfigDigest(image: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-save-"));
    try {
        execFileSync("bash", ["-o", "pipefail", "-c", 'docker save "$1" | tar -x -C "$2"', "save", image, dir], { stdio: ["ignore", "ignore", "pipe"] });
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as Array<{ Config: string }>;
        if (manifest.length !== 1) throw new Error(`docker save ${image} lists ${manifest.length} images`);
        const config = fs.readFileSync(path.join(dir, manifest[0].Config));
        const digest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
        if (path.basename(manifest[0].Config).replace(/\.json$/, "") !== digest.slice("sha256:".length)) throw new Error(`docker save ${image}: ${manifest[0].Config} does not hold what it is named after`);
        return digest;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** GET a manifest accepting every kind (OCI included), as the program's push reads it back. */
export async function getAnyManifest(
    registry: string,
    repo: string,
    reference: string,
    login?: { username: string; password: string },
): Promise<{ manifest: Manifest & { manifests?: unknown[] }; contentType: string; digest: string }> {
    const auth: Record<string, string> = login ? { Authorization: `Basic ${Buffer.from(`${login.username}:${login.password}`).toString("base64")}` } : {};
    const accept = [MANIFEST_V2, "application/vnd.docker.distribution.manifest.list.v2+json", OCI_MANIFEST, "application/vnd.oci.image.index.v1+json"].join(", ");
    const res = await fetch(`https://${registry}/v2/${repo}/manifests/${reference}`, { headers: { Accept: accept, ...auth } });
    if (!res.ok) throw new Error(`GET manifest ${registry}/${repo}:${reference}: HTTP ${res.status}`);
    return { manifest: (await res.json()) as Manifest, contentType: res.headers.get("content-type") ?? "", digest: res.headers.get("docker-content-digest") ?? "" };
}
