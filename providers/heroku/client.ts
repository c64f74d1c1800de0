/**
 * The one HTTP client for the Heroku Platform API and the Heroku container registry: bearer auth,
 * the API's Accept header, retries with backoff on 429/5xx (honouring Retry-After), and errors
 * that say which app and what to check.
 */

import { MANIFEST_V2, RegistryClient, RegistryError, retryDelay, type Manifest } from "../../registry/client";

export { MANIFEST_V2, retryDelay };

export const DEFAULT_API_URL = "https://api.heroku.com";
export const DEFAULT_REGISTRY_URL = "https://registry.heroku.com";
export const ACCEPT_V3 = "application/vnd.heroku+json; version=3";
export const ACCEPT_DOCKER_RELEASES = "application/vnd.heroku+json; version=3.docker-releases";
/**
 * v2 schema 2 first; the index and OCI types are accepted only so that a wrong push (multi-platform,
 * provenance attestations) is reported as such instead of as a missing manifest.
 */
export const MANIFEST_ACCEPT = [
    MANIFEST_V2,
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
].join(", ");

export interface ClientOptions {
    readonly apiKey: string;
    /** @default https://api.heroku.com */
    readonly apiUrl?: string;
    /** @default https://registry.heroku.com */
    readonly registryUrl?: string;
    /** Attempts for one request, the first included. @default 5 */
    readonly maxAttempts?: number;
    /** First backoff delay; doubles per retry. @default 500 */
    readonly backoffMs?: number;
    /** Longest wait honoured from Retry-After. @default 30000 */
    readonly maxRetryAfterMs?: number;
    readonly sleep?: (ms: number) => Promise<void>;
}

export class HerokuError extends Error {
    constructor(
        message: string,
        readonly status: number,
        readonly id?: string,
    ) {
        super(message);
        this.name = "HerokuError";
    }
}

export interface RequestOptions {
    readonly body?: unknown;
    readonly accept?: string;
    readonly range?: string;
    /** The app the request is about, named in errors. */
    readonly app?: string;
}

const sleepReal = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function explain(status: number, method: string, path: string, app: string | undefined, body: { id?: string; message?: string }): string {
    const what = app ? `app ${app}` : path;
    const said = body.message ? ` Heroku said: ${body.message}` : "";
    switch (status) {
        case 401:
            return `Heroku API ${method} ${path}: 401 Unauthorized — the API key was refused. Check onedigest:herokuApiKey (or HEROKU_API_KEY): create one with \`heroku authorizations:create\`.${said}`;
        case 403:
            return `Heroku API ${method} ${path}: 403 Forbidden on ${what} — the API key's account may not manage it. Check the app's owner or team membership.${said}`;
        case 404:
            return `Heroku API ${method} ${path}: 404 Not Found for ${what} — check onedigest:heroku.appName and that the app exists in this account.${said}`;
        case 422:
            return `Heroku API ${method} ${path}: 422 Unprocessable for ${what} — the request was refused as invalid.${said}`;
        default:
            return `Heroku API ${method} ${path}: HTTP ${status} for ${what}.${said}`;
    }
}

export class HerokuClient {
    readonly apiUrl: string;
    readonly registryUrl: string;
    private readonly maxAttempts: number;
    private readonly backoffMs: number;
    private readonly maxRetryAfterMs: number;
    private readonly sleep: (ms: number) => Promise<void>;

    constructor(private readonly options: ClientOptions) {
        if (!options.apiKey) throw new HerokuError("no Heroku API key: set onedigest:herokuApiKey (secret) or HEROKU_API_KEY", 0);
        this.apiUrl = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/$/, "");
        this.registryUrl = (options.registryUrl ?? DEFAULT_REGISTRY_URL).replace(/\/$/, "");
        this.maxAttempts = options.maxAttempts ?? 5;
        this.backoffMs = options.backoffMs ?? 500;
        this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
        this.sleep = options.sleep ?? sleepReal;
    }

    /** One Platform API call; retried on 429 and 5xx. Returns the parsed JSON body. */
    async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
        const headers: Record<string, string> = {
            Accept: opts.accept ?? ACCEPT_V3,
            Authorization: `Bearer ${this.options.apiKey}`,
            "User-Agent": "onedigest",
        };
        if (opts.body !== undefined) headers["Content-Type"] = "application/json";
        if (opts.range) headers.Range = opts.range;
        const res = await this.send(`${this.apiUrl}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
        const text = await res.text();
        const body = text ? (JSON.parse(text) as unknown) : undefined;
        if (!res.ok) {
            const err = (body ?? {}) as { id?: string; message?: string };
            throw new HerokuError(explain(res.status, method, path, opts.app, err), res.status, err.id);
        }
        return body as T;
    }

    /** GET a manifest from the Heroku registry as a v2 client does (token auth when challenged). */
    async manifest(app: string, reference: string): Promise<{ digest: string; manifest: Manifest }> {
        const url = new URL(this.registryUrl);
        const registry = new RegistryClient(`${url.host}/${app}/web`, { username: "_", password: this.options.apiKey }, {
            scheme: url.protocol === "http:" ? "http" : "https",
            maxAttempts: this.maxAttempts,
            backoffMs: this.backoffMs,
            maxRetryAfterMs: this.maxRetryAfterMs,
            sleep: this.sleep,
        });
        let fetched;
        try {
            fetched = await registry.getManifest(reference, MANIFEST_ACCEPT);
        } catch (err) {
            if (err instanceof RegistryError && err.token) throw new HerokuError(`Heroku registry token: HTTP ${err.status} — check the API key`, err.status);
            if (err instanceof RegistryError && err.status > 0) throw new HerokuError(`Heroku registry GET /v2/${app}/web/manifests/${reference}: HTTP ${err.status} — was the image pushed to registry.heroku.com/${app}/web?`, err.status);
            if (err instanceof RegistryError) throw new HerokuError(`Heroku: ${err.message}`, 0);
            throw err;
        }
        if (!fetched) {
            throw new HerokuError(`Heroku registry GET /v2/${app}/web/manifests/${reference}: HTTP 404 — was the image pushed to registry.heroku.com/${app}/web?`, 404);
        }
        if (fetched.mediaType !== MANIFEST_V2) {
            throw new HerokuError(`Heroku registry: ${app}/web@${reference} is ${fetched.mediaType}, not a Docker v2 schema 2 manifest; Heroku releases only single-platform v2 images (build without provenance/attestations)`, 200);
        }
        return { digest: fetched.digest, manifest: fetched.manifest };
    }

    private async send(url: string, init: RequestInit): Promise<Response> {
        for (let attempt = 1; ; attempt++) {
            let res: Response;
            try {
                res = await fetch(url, init);
            } catch (err) {
                if (attempt >= this.maxAttempts) throw new HerokuError(`Heroku: ${init.method} ${url} failed: ${String(err)}`, 0);
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
