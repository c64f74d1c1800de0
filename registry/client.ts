/**
 * A small client of the OCI distribution API (what every registry speaks: ECR, Artifact Registry,
 * Heroku's, Debian's docker-registry): manifests by tag or digest, with the login a registry asks
 * for — Basic, or a Bearer token from the realm its `WWW-Authenticate` challenge names — and
 * retries with backoff on 429 and 5xx. Used by the idempotent push (registry/push.ts) and the Heroku
 * release (providers/heroku).
 */
import { createHash } from "crypto";

export const MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";
export const MANIFEST_LIST_V2 = "application/vnd.docker.distribution.manifest.list.v2+json";
export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** Every manifest kind, so that what a registry holds is always seen as it is. */
export const ACCEPT_ANY = [MANIFEST_V2, MANIFEST_LIST_V2, OCI_MANIFEST, OCI_INDEX].join(", ");

export interface Login {
    readonly username?: string;
    readonly password?: string;
}

export interface Descriptor {
    readonly mediaType?: string;
    readonly digest: string;
    readonly size: number;
    readonly platform?: { readonly os?: string; readonly architecture?: string; readonly variant?: string };
    readonly annotations?: Readonly<Record<string, string>>;
}

/** An image manifest or an index, as a registry returns it. */
export interface Manifest {
    readonly schemaVersion?: number;
    readonly mediaType?: string;
    readonly config?: Descriptor;
    readonly layers?: readonly Descriptor[];
    readonly manifests?: readonly Descriptor[];
}

export interface FetchedManifest {
    /** The manifest's digest: the registry's Docker-Content-Digest, else the sha256 of the bytes. */
    readonly digest: string;
    readonly mediaType: string;
    readonly manifest: Manifest;
    readonly bytes: Buffer;
}

export class RegistryError extends Error {
    constructor(
        message: string,
        readonly status: number,
        /** The registry's own error code (`MANIFEST_UNKNOWN`, `TAG_INVALID`, …), if it sent one. */
        readonly code?: string,
        /** Whether the token request failed (the login), not the request itself. */
        readonly token = false,
    ) {
        super(message);
        this.name = "RegistryError";
    }
}

export interface RegistryClientOptions {
    /** @default "https" (every real registry); "http" only for a test registry on loopback */
    readonly scheme?: "https" | "http";
    /** Attempts for one request, the first included. @default 5 */
    readonly maxAttempts?: number;
    /** First backoff delay; doubles per retry. @default 500 */
    readonly backoffMs?: number;
    /** Longest wait honoured from Retry-After. @default 30000 */
    readonly maxRetryAfterMs?: number;
    readonly sleep?: (ms: number) => Promise<void>;
}

const sleepReal = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Delay before retry `attempt` (1-based), from Retry-After when the server sent one. */
export function retryDelay(attempt: number, retryAfter: string | null, backoffMs: number, maxMs: number): number {
    if (retryAfter) {
        const seconds = Number(retryAfter);
        if (Number.isFinite(seconds)) return Math.min(Math.max(seconds, 0) * 1000, maxMs);
        const date = Date.parse(retryAfter);
        if (!Number.isNaN(date)) return Math.min(Math.max(date - Date.now(), 0), maxMs);
    }
    return Math.min(backoffMs * 2 ** (attempt - 1), maxMs);
}

/** `host[:port]/path` → the registry's base URL and the repository path. */
export function splitRepository(repository: string): { host: string; path: string } {
    const slash = repository.indexOf("/");
    if (slash < 0) throw new RegistryError(`not a repository with a registry host: ${repository}`, 0);
    return { host: repository.slice(0, slash), path: repository.slice(slash + 1) };
}

/** The parameters of a `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` challenge. */
export function challengeParams(challenge: string): Record<string, string> {
    return Object.fromEntries([...challenge.replace(/^\w+\s+/, "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

export class RegistryClient {
    readonly host: string;
    readonly path: string;
    private readonly scheme: string;
    private authorization?: string;
    private readonly maxAttempts: number;
    private readonly backoffMs: number;
    private readonly maxRetryAfterMs: number;
    private readonly sleep: (ms: number) => Promise<void>;

    /** A client of one repository, `host[:port]/path`, logging in as `login` when challenged. */
    constructor(
        repository: string,
        private readonly login: Login = {},
        options: RegistryClientOptions = {},
    ) {
        ({ host: this.host, path: this.path } = splitRepository(repository));
        this.scheme = options.scheme ?? "https";
        this.maxAttempts = options.maxAttempts ?? 5;
        this.backoffMs = options.backoffMs ?? 500;
        this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
        this.sleep = options.sleep ?? sleepReal;
    }

    /** The manifest at a tag or digest; undefined when the registry has none (404). */
    async getManifest(reference: string, accept: string = ACCEPT_ANY): Promise<FetchedManifest | undefined> {
        const res = await this.authorized(`/v2/${this.path}/manifests/${reference}`, { method: "GET", headers: { Accept: accept } });
        if (res.status === 404) {
            await res.arrayBuffer();
            return undefined;
        }
        if (!res.ok) throw await this.error(res, `GET ${this.host}/${this.path}:${reference}`);
        const bytes = Buffer.from(await res.arrayBuffer());
        const manifest = JSON.parse(bytes.toString("utf8")) as Manifest;
        const mediaType = (res.headers.get("content-type") ?? manifest.mediaType ?? "").split(";")[0].trim();
        const digest = res.headers.get("docker-content-digest") ?? `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
        return { digest, mediaType, manifest, bytes };
    }

    /**
     * The manifest with this digest, checked to be those bytes: the registry's answer is hashed, so
     * what it names (the config, the layers) is tied to the digest and to nothing the registry says.
     */
    async getManifestByDigest(digest: string, accept: string = ACCEPT_ANY): Promise<FetchedManifest | undefined> {
        if (!DIGEST.test(digest)) throw new RegistryError(`not a sha256 digest: ${digest}`, 0);
        const fetched = await this.getManifest(digest, accept);
        if (!fetched) return undefined;
        const actual = `sha256:${createHash("sha256").update(fetched.bytes).digest("hex")}`;
        if (actual !== digest) throw new RegistryError(`registry ${this.host}/${this.path}@${digest} answered a manifest whose digest is ${actual}`, 0);
        return { ...fetched, digest };
    }

    /** Whether the repository holds a blob (HEAD). */
    async hasBlob(digest: string): Promise<boolean> {
        const res = await this.authorized(`/v2/${this.path}/blobs/${digest}`, { method: "HEAD", headers: {} });
        if (res.status !== 404 && !res.ok) throw await this.error(res, `HEAD ${this.host}/${this.path} blob ${digest}`);
        await res.arrayBuffer();
        return res.ok;
    }

    /**
     * Uploads a blob as the docker client does: POST opens an upload, PATCH sends the bytes, PUT with
     * the digest closes it (the registry checks the digest).
     */
    async putBlob(digest: string, bytes: Buffer): Promise<void> {
        const step = async (what: string, path: string, init: { method: string; headers: Record<string, string>; body?: Buffer }, status: number): Promise<Response> => {
            const res = await this.authorized(path, init);
            if (res.status !== status) throw await this.error(res, `${init.method} ${this.host}/${this.path} ${what}`);
            await res.arrayBuffer();
            return res;
        };
        const opened = await step("blob upload", `/v2/${this.path}/blobs/uploads/`, { method: "POST", headers: {} }, 202);
        const sent = await step(`blob ${digest}`, this.uploadPath(opened), { method: "PATCH", headers: { "Content-Type": "application/octet-stream" }, body: bytes }, 202);
        const close = new URL(this.uploadPath(sent), `${this.scheme}://${this.host}`);
        close.searchParams.set("digest", digest);
        await step(`blob ${digest}`, `${close.pathname}${close.search}`, { method: "PUT", headers: {} }, 201);
    }

    /** An upload's next address (its Location, absolute or relative), as a path on this registry. */
    private uploadPath(res: Response): string {
        const location = res.headers.get("location");
        if (!location) throw new RegistryError(`registry ${this.host}/${this.path}: a blob upload answered without a Location`, res.status);
        const url = new URL(location, `${this.scheme}://${this.host}`);
        if (url.host !== this.host) throw new RegistryError(`registry ${this.host}/${this.path}: a blob upload moved to another host (${url.host})`, res.status);
        return `${url.pathname}${url.search}`;
    }

    /** PUTs a manifest under a tag or digest; returns its digest. */
    async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
        const res = await this.authorized(`/v2/${this.path}/manifests/${reference}`, { method: "PUT", headers: { "Content-Type": mediaType }, body: bytes });
        if (!res.ok) throw await this.error(res, `PUT ${this.host}/${this.path}:${reference}`);
        await res.arrayBuffer();
        return res.headers.get("docker-content-digest") ?? `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    }

    private async error(res: Response, what: string, token = false): Promise<RegistryError> {
        const text = await res.text().catch(() => "");
        let code: string | undefined;
        let said = text.slice(0, 300);
        try {
            const first = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors?.[0];
            if (first) {
                code = first.code;
                said = `${first.code ?? ""}: ${first.message ?? ""}`.trim();
            }
        } catch {
            // not JSON: keep the text
        }
        const hint = res.status === 401 || res.status === 403 ? " — the registry refused the login" : "";
        return new RegistryError(`registry ${what}: HTTP ${res.status}${hint}${said ? ` (${said})` : ""}`, res.status, code, token);
    }

    /**
     * A request with the login: Basic credentials at first (what ECR and Debian's registry take), then
     * whatever the registry's challenge asks for (a Bearer token: Artifact Registry, Heroku), reused for
     * the client's life.
     */
    private async authorized(path: string, init: { method: string; headers: Record<string, string>; body?: Buffer }): Promise<Response> {
        const url = `${this.scheme}://${this.host}${path}`;
        this.authorization ??= this.basic();
        const withAuth = () => ({ ...init, headers: { ...init.headers, ...(this.authorization ? { Authorization: this.authorization } : {}) } });
        let res = await this.send(url, withAuth());
        const challenge = res.headers.get("www-authenticate");
        if (res.status === 401 && challenge && !(/^basic\b/i.test(challenge) && this.authorization === this.basic())) {
            await res.arrayBuffer();
            this.authorization = await this.answer(challenge);
            res = await this.send(url, withAuth());
        }
        return res;
    }

    private basic(): string | undefined {
        if (this.login.username === undefined && this.login.password === undefined) return undefined;
        return `Basic ${Buffer.from(`${this.login.username ?? ""}:${this.login.password ?? ""}`).toString("base64")}`;
    }

    private async answer(challenge: string): Promise<string> {
        const basic = this.basic();
        if (/^basic\b/i.test(challenge)) {
            if (!basic) throw new RegistryError(`registry ${this.host} asks for a login and none was given`, 401);
            return basic;
        }
        const params = challengeParams(challenge);
        if (!/^bearer\b/i.test(challenge) || !params.realm) throw new RegistryError(`registry ${this.host}: unsupported challenge ${challenge}`, 401);
        const url = new URL(params.realm);
        if (params.service) url.searchParams.set("service", params.service);
        if (params.scope) url.searchParams.set("scope", params.scope);
        const res = await this.send(url.toString(), { method: "GET", headers: basic ? { Authorization: basic } : {} });
        if (!res.ok) throw await this.error(res, `token from ${url.host}`, true);
        const body = (await res.json()) as { token?: string; access_token?: string };
        return `Bearer ${body.token ?? body.access_token ?? ""}`;
    }

    private async send(url: string, init: RequestInit): Promise<Response> {
        for (let attempt = 1; ; attempt++) {
            let res: Response;
            try {
                res = await fetch(url, init);
            } catch (err) {
                if (attempt >= this.maxAttempts) throw new RegistryError(`registry ${init.method} ${url} failed: ${String(err)}`, 0);
                await this.sleep(retryDelay(attempt, null, this.backoffMs, this.maxRetryAfterMs));
                continue;
            }
            if ((res.status === 429 || res.status >= 500) && attempt < this.maxAttempts) {
                await res.arrayBuffer();
                await this.sleep(retryDelay(attempt, res.headers.get("retry-after"), this.backoffMs, this.maxRetryAfterMs));
                continue;
            }
            return res;
        }
    }
}

/**
 * The image manifest for `platform` (`os/arch`) in what a registry holds: the manifest itself, or
 * its entry in an index (attestation manifests, whose platform is unknown/unknown, are skipped).
 */
export function platformEntry(fetched: FetchedManifest, platform: string): Descriptor | undefined {
    const [os, architecture, variant] = platform.split("/");
    return fetched.manifest.manifests?.find((m) => m.platform?.os === os && m.platform.architecture === architecture && (variant === undefined || m.platform.variant === variant));
}

const DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
const CONVERTIBLE_LAYERS: Readonly<Record<string, string>> = {
    "application/vnd.oci.image.layer.v1.tar+gzip": DOCKER_LAYER,
    [DOCKER_LAYER]: DOCKER_LAYER,
};

/**
 * The same image as a Docker v2 schema 2 manifest: the same config and layer blobs (so the same
 * config digest, the image ID) under Docker's media types. Only gzip layers have a Docker type.
 */
export function toDockerV2(manifest: Manifest): Buffer {
    if (!manifest.config || !manifest.layers) throw new RegistryError("not an image manifest (no config or layers)", 0);
    const layers = manifest.layers.map((layer) => {
        const mediaType = CONVERTIBLE_LAYERS[layer.mediaType ?? ""];
        if (!mediaType) throw new RegistryError(`layer ${layer.digest} is ${layer.mediaType}, which has no Docker v2 schema 2 media type (build with gzip layers)`, 0);
        return { mediaType, size: layer.size, digest: layer.digest };
    });
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_V2, config: { mediaType: DOCKER_CONFIG, size: manifest.config.size, digest: manifest.config.digest }, layers }));
}

/** What a registry's `repo@sha256:…` is, read by digest (so checked by content) for one platform. */
export interface RegistryImage {
    /** The image manifest's digest: the reference's own, or its platform entry's in an index. */
    readonly manifestDigest: string;
    readonly mediaType: string;
    /** The config digest that manifest names: the image ID. */
    readonly configDigest: string;
}

/** Splits `host[:port]/path@sha256:<64 hex>` into its repository and digest. */
export function splitDigestRef(ref: string): { repository: string; digest: string } {
    const match = /^([^@\s]+\/[^@\s]+)@(sha256:[0-9a-f]{64})$/.exec(ref);
    if (!match) throw new RegistryError(`not a registry reference by digest (host/path@sha256:<64 hex>): ${ref}`, 0);
    return { repository: match[1], digest: match[2] };
}

/**
 * The image a reference by digest names, from its registry: the manifest with that digest (its bytes
 * hashed), or the platform's entry in the index with that digest, and the config digest it names.
 */
export async function readRegistryImage(ref: string, platform: string, client: RegistryClient): Promise<RegistryImage> {
    const { digest } = splitDigestRef(ref);
    let fetched = await client.getManifestByDigest(digest);
    if (!fetched) throw new RegistryError(`${ref} is not in its registry (no manifest with that digest)`, 404);
    if (fetched.manifest.manifests) {
        const entry = platformEntry(fetched, platform);
        const child = entry && (await client.getManifestByDigest(entry.digest));
        if (!child) throw new RegistryError(`${ref} is an index without a ${platform} image`, 404);
        fetched = child;
    }
    const configDigest = fetched.manifest.config?.digest;
    if (!configDigest || !DIGEST.test(configDigest)) throw new RegistryError(`${ref} is not an image manifest (no config digest)`, 0);
    return { manifestDigest: fetched.digest, mediaType: fetched.mediaType, configDigest };
}
