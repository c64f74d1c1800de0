/**
 * The one HTTP client for the Heroku Platform API and the Heroku container registry: bearer auth,
 * the API's Accept header, retries with backoff on 429/5xx (honouring Retry-After), and errors
 * that say which app and what to check.
 */

export const DEFAULT_API_URL = "https://api.heroku.com";
export const DEFAULT_REGISTRY_URL = "https://registry.heroku.com";
export const ACCEPT_V3 = "application/vnd.heroku+json; version=3";
export const ACCEPT_DOCKER_RELEASES = "application/vnd.heroku+json; version=3.docker-releases";
export const MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";
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
    async manifest(app: string, reference: string): Promise<{ digest: string; manifest: { mediaType?: string; config?: { digest?: string } } }> {
        const url = `${this.registryUrl}/v2/${app}/web/manifests/${reference}`;
        const basic = `Basic ${Buffer.from(`_:${this.options.apiKey}`).toString("base64")}`;
        let res = await this.send(url, { method: "GET", headers: { Accept: MANIFEST_ACCEPT, Authorization: basic } });
        const challenge = res.headers.get("www-authenticate");
        if (res.status === 401 && challenge?.startsWith("Bearer ")) {
            const token = await this.registryToken(challenge, basic);
            res = await this.send(url, { method: "GET", headers: { Accept: MANIFEST_ACCEPT, Authorization: `Bearer ${token}` } });
        }
        if (!res.ok) {
            throw new HerokuError(`Heroku registry GET /v2/${app}/web/manifests/${reference}: HTTP ${res.status} — was the image pushed to registry.heroku.com/${app}/web?`, res.status);
        }
        const contentType = res.headers.get("content-type") ?? "";
        if (!contentType.startsWith(MANIFEST_V2)) {
            throw new HerokuError(`Heroku registry: ${app}/web@${reference} is ${contentType}, not a Docker v2 schema 2 manifest; Heroku releases only single-platform v2 images (build without provenance/attestations)`, res.status);
        }
        return { digest: res.headers.get("docker-content-digest") ?? reference, manifest: (await res.json()) as { mediaType?: string; config?: { digest?: string } } };
    }

    private async registryToken(challenge: string, basic: string): Promise<string> {
        const params = Object.fromEntries([...challenge.slice(7).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
        const url = new URL(params.realm);
        if (params.service) url.searchParams.set("service", params.service);
        if (params.scope) url.searchParams.set("scope", params.scope);
        const res = await this.send(url.toString(), { method: "GET", headers: { Authorization: basic } });
        if (!res.ok) throw new HerokuError(`Heroku registry token: HTTP ${res.status} — check the API key`, res.status);
        const body = (await res.json()) as { token?: string; access_token?: string };
        return body.token ?? body.access_token ?? "";
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
