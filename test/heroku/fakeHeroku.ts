/**
 * A fake Heroku Platform API: a real HTTP server on loopback that answers the requests the heroku
 * target sends, with the API's shapes, and records each request for assertions.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export interface SeenRequest {
    readonly method: string;
    readonly path: string;
    readonly headers: http.IncomingHttpHeaders;
    readonly body: unknown;
}

interface FakeApp {
    id: string;
    name: string;
    region: string;
    team?: string;
    configVars: Record<string, string>;
    releases: Array<{ id: string; version: number; status: string; output_stream_url: string | null; description: string }>;
    formation: { quantity: number; size: string; docker_image?: string };
    /** Log drains, in the Platform API's shape (Log Drain: id, token, url, addon, created_at, updated_at). */
    drains?: Array<{ id: string; token: string; url: string; addon: null; created_at: string; updated_at: string }>;
}

export interface Failure {
    readonly status: number;
    readonly body?: unknown;
    readonly headers?: Record<string, string>;
}

export class FakeHeroku {
    readonly requests: SeenRequest[] = [];
    readonly apps = new Map<string, FakeApp>();
    /** Queued failures by "METHOD /path", answered before the real handler. */
    readonly failures = new Map<string, Failure[]>();
    /**
     * How the next image release ends, and after how many polls; `bare`: with no output stream and no description, as Heroku
     * may report one; `unlistedPolls`: how many looks at the release list miss it at first (Heroku
     * lists a release a moment after the formation change that made it).
     */
    releaseOutcome: { status: "succeeded" | "failed" | "expired"; afterPolls: number; bare?: boolean; unlistedPolls?: number } = { status: "succeeded", afterPolls: 1 };
    private unlisted = 0;
    private server?: http.Server;
    private counter = 0;
    private pollsLeft = 0;

    constructor(readonly apiKey: string) {}

    get url(): string {
        return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    }

    failNext(route: string, ...failures: Failure[]): void {
        this.failures.set(route, [...(this.failures.get(route) ?? []), ...failures]);
    }

    start(): Promise<void> {
        this.server = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                const seen: SeenRequest = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
                this.requests.push(seen);
                const [status, body, headers] = this.answer(seen);
                res.writeHead(status, { "Content-Type": "application/json", ...headers });
                res.end(body === undefined ? "" : JSON.stringify(body));
            });
        });
        return new Promise((resolve) => this.server!.listen(0, "127.0.0.1", () => resolve()));
    }

    stop(): Promise<void> {
        return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    }

    private appJson(app: FakeApp) {
        return {
            id: app.id,
            name: app.name,
            web_url: `https://${app.name}-0123456789ab.herokuapp.com/`,
            region: { id: `r-${app.region}`, name: app.region },
            stack: { id: "s-container", name: "container" },
            build_stack: { id: "s-container", name: "container" },
            team: app.team ? { id: "t-1", name: app.team } : null,
        };
    }

    private find(idOrName: string): FakeApp | undefined {
        for (const app of this.apps.values()) if (app.id === idOrName || app.name === idOrName) return app;
        return undefined;
    }

    private answer(req: SeenRequest): [number, unknown, Record<string, string>?] {
        const route = `${req.method} ${req.path.split("?")[0]}`;
        const queued = this.failures.get(route);
        if (queued?.length) {
            const f = queued.shift()!;
            return [f.status, f.body ?? { id: "failure", message: `injected ${f.status}` }, f.headers];
        }
        if (req.headers.authorization !== `Bearer ${this.apiKey}`) return [401, { id: "unauthorized", message: "Invalid credentials provided." }];
        if (!String(req.headers.accept).startsWith("application/vnd.heroku+json; version=3")) return [406, { id: "bad_accept", message: "Accept header missing the API version" }];
        const body = (req.body ?? {}) as Record<string, unknown>;
        const parts = req.path.split("?")[0].split("/").filter(Boolean);

        if (req.method === "POST" && (route === "POST /apps" || route === "POST /teams/apps")) {
            const name = String(body.name);
            if (this.find(name)) return [422, { id: "invalid_params", message: "Name is already taken" }];
            if (body.stack !== "container") return [422, { id: "invalid_params", message: "stack must be container" }];
            const app: FakeApp = { id: `app-${++this.counter}`, name, region: String(body.region ?? "us"), team: body.team as string | undefined, configVars: {}, releases: [], formation: { quantity: 0, size: "basic" } };
            this.apps.set(app.id, app);
            return [201, this.appJson(app)];
        }
        if (parts[0] !== "apps" || !parts[1]) return [404, { id: "not_found", message: "Couldn't find that route." }];
        const app = this.find(parts[1]);
        if (!app) return [404, { id: "not_found", message: "Couldn't find that app." }];
        const rest = parts.slice(2).join("/");
        const drains = (app.drains ??= []);

        switch (`${req.method} ${rest}`) {
            case "GET ":
                return [200, this.appJson(app)];
            case "PATCH ":
                if (typeof body.name === "string") app.name = body.name;
                return [200, this.appJson(app)];
            case "DELETE ":
                this.apps.delete(app.id);
                return [200, this.appJson(app)];
            case "PATCH config-vars": {
                for (const [k, v] of Object.entries(body)) {
                    if (v === null) delete app.configVars[k];
                    else app.configVars[k] = String(v);
                }
                // As Heroku does: once an app has releases, a config change is a release (done at once).
                if (app.releases.length > 0) {
                    const version = app.releases.length + 1;
                    app.releases.push({ id: `rel-${version}`, version, status: "succeeded", output_stream_url: null, description: `Set ${Object.keys(body).join(", ")} config vars` });
                }
                return [200, app.configVars];
            }
            case "PATCH formation": {
                if (req.headers.accept !== "application/vnd.heroku+json; version=3.docker-releases") return [422, { id: "invalid_params", message: "docker_image needs the docker-releases variant" }];
                const update = (body.updates as Array<{ type: string; docker_image: string }>)[0];
                app.formation.docker_image = update.docker_image;
                const version = app.releases.length + 1;
                const bare = this.releaseOutcome.bare === true;
                app.releases.push({
                    id: `rel-${version}`,
                    version,
                    status: "pending",
                    output_stream_url: bare ? null : `https://release-output.heroku.com/streams/${version}`,
                    description: bare ? "" : `Deployed web (${update.docker_image.slice(7, 19)})`,
                });
                this.pollsLeft = this.releaseOutcome.afterPolls;
                this.unlisted = this.releaseOutcome.unlistedPolls ?? 0;
                return [200, [{ type: "web", quantity: app.formation.quantity, size: app.formation.size, docker_image: { id: update.docker_image } }]];
            }
            case "GET releases": {
                if (this.unlisted > 0) {
                    this.unlisted--;
                    const listed = app.releases[app.releases.length - 2];
                    return [206, listed ? [listed] : []];
                }
                const newest = app.releases[app.releases.length - 1];
                if (newest && newest.status === "pending" && --this.pollsLeft <= 0) newest.status = this.releaseOutcome.status;
                return [206, newest ? [newest] : []];
            }
            case "POST log-drains": {
                // Log Drain Create: `url` is required (heroku-client docs/logDrain.md, Required Attributes); the
                // drain gets an ID and a token of its own.
                if (typeof body.url !== "string" || body.url === "") return [422, { id: "invalid_params", message: "Missing required params: url" }];
                const at = new Date().toISOString();
                const n = ++this.counter;
                const drain = { id: `drain-${n}`, token: `d.0000000${n}-0000-4000-8000-000000000000`, url: body.url, addon: null, created_at: at, updated_at: at };
                drains.push(drain);
                return [201, drain];
            }
            case "GET log-drains":
                return [200, drains];
            case "PATCH formation/web":
                app.formation.quantity = Number(body.quantity);
                app.formation.size = String(body.size);
                return [200, { type: "web", quantity: app.formation.quantity, size: app.formation.size }];
            default: {
                // Log Drain Info and Delete, by the drain's ID, URL or token.
                const drainRoute = /^(GET|DELETE) log-drains\/(.+)$/.exec(`${req.method} ${rest}`);
                if (drainRoute) {
                    const key = decodeURIComponent(drainRoute[2]);
                    const drain = drains.find((d) => d.id === key || d.url === key || d.token === key);
                    if (!drain) return [404, { id: "not_found", message: "Couldn't find that log drain." }];
                    if (drainRoute[1] === "DELETE") app.drains = drains.filter((d) => d !== drain);
                    return [200, drain];
                }
                return [404, { id: "not_found", message: "Couldn't find that route." }];
            }
        }
    }
}
