/**
 * What the Heroku dynamic resources do, as plain async functions over a HerokuClient so tests can
 * run them against a local fake API and a real registry.
 */
import { ACCEPT_DOCKER_RELEASES, HerokuClient, HerokuError, type ClientOptions } from "./client";

export interface AppInputs {
    readonly name: string;
    readonly region: string;
    readonly team?: string;
    /** Config vars, SECRET_KEY among them (a secret input). */
    readonly configVars: Readonly<Record<string, string>>;
    readonly apiKey: string;
    readonly apiUrl?: string;
}

export interface AppOutputs extends AppInputs {
    readonly appId: string;
    readonly webUrl: string;
}

interface ApiApp {
    id: string;
    name: string;
    web_url: string;
    region: { name: string };
    stack?: { name: string };
    team?: { name: string } | null;
}

export function clientFor(inputs: { apiKey: string; apiUrl?: string; registryUrl?: string }, extra: Partial<ClientOptions> = {}): HerokuClient {
    return new HerokuClient({ apiKey: inputs.apiKey, apiUrl: inputs.apiUrl, registryUrl: inputs.registryUrl, ...extra });
}

/** PATCH the config vars; names that were set before and are gone now are removed (null). */
export async function syncConfigVars(client: HerokuClient, app: string, wanted: Readonly<Record<string, string>>, before: Readonly<Record<string, string>> = {}): Promise<void> {
    const body: Record<string, string | null> = { ...wanted };
    for (const name of Object.keys(before)) if (!(name in wanted)) body[name] = null;
    if (Object.keys(body).length === 0) return;
    await client.request("PATCH", `/apps/${app}/config-vars`, { body, app });
}

/**
 * The config vars as the app gets them: with FORCE_HTTPS on, CANONICAL_HOST is the app's own host
 * (its web URL's), where the redirect to HTTPS goes instead of the Host header a client sent (the
 * app refuses to start with one and not the other). Heroku makes that host, with a random part,
 * only when it creates the app, so it is set here and not in the program's inputs.
 */
export function withOwnHost(vars: Readonly<Record<string, string>>, webUrl: string): Record<string, string> {
    // FORCE_HTTPS as the app reads it; CANONICAL_HOST is never in app.env (config.ts reserves it).
    const forceHttps = ["1", "true", "yes", "on"].includes((vars.FORCE_HTTPS ?? "").trim().toLowerCase());
    return forceHttps ? { ...vars, CANONICAL_HOST: new URL(webUrl).host } : { ...vars };
}

export async function createApp(client: HerokuClient, inputs: AppInputs): Promise<AppOutputs> {
    const body = { name: inputs.name, region: inputs.region, stack: "container", ...(inputs.team ? { team: inputs.team } : {}) };
    const created = await client.request<ApiApp>("POST", inputs.team ? "/teams/apps" : "/apps", { body, app: inputs.name });
    await syncConfigVars(client, created.id, withOwnHost(inputs.configVars, created.web_url));
    return { ...inputs, appId: created.id, name: created.name, webUrl: created.web_url };
}

/** The app as Heroku has it now, or undefined if it is gone. */
export async function readApp(client: HerokuClient, id: string, state: AppOutputs): Promise<AppOutputs | undefined> {
    try {
        const app = await client.request<ApiApp>("GET", `/apps/${id}`, { app: state.name });
        return { ...state, appId: app.id, name: app.name, region: app.region.name, webUrl: app.web_url };
    } catch (err) {
        if (err instanceof HerokuError && err.status === 404) return undefined;
        throw err;
    }
}

/** Fields Heroku cannot change on an existing app: a change means a new app. */
export const APP_REPLACE_FIELDS = ["region", "team"] as const;

export function diffApp(olds: AppOutputs, news: AppInputs): { changes: boolean; replaces: string[] } {
    const replaces = APP_REPLACE_FIELDS.filter((f) => (olds[f] ?? "") !== (news[f] ?? ""));
    const updates = ["name", "apiUrl", "apiKey"].filter((f) => olds[f as keyof AppInputs] !== news[f as keyof AppInputs]);
    const vars = JSON.stringify(sorted(olds.configVars)) !== JSON.stringify(sorted(news.configVars));
    return { changes: replaces.length > 0 || updates.length > 0 || vars, replaces: [...replaces] };
}

function sorted(record: Readonly<Record<string, string>>): Array<[string, string]> {
    return Object.entries(record ?? {}).sort(([a], [b]) => a.localeCompare(b));
}

export async function updateApp(client: HerokuClient, id: string, olds: AppOutputs, news: AppInputs): Promise<AppOutputs> {
    let current: ApiApp | undefined;
    if (olds.name !== news.name) {
        // Heroku renames in place: same app ID, releases and add-ons kept; the web URL changes.
        current = await client.request<ApiApp>("PATCH", `/apps/${id}`, { body: { name: news.name }, app: olds.name });
    }
    const webUrl = current?.web_url ?? olds.webUrl;
    await syncConfigVars(client, id, withOwnHost(news.configVars, webUrl), withOwnHost(olds.configVars, olds.webUrl));
    return { ...news, appId: id, name: current?.name ?? news.name, webUrl };
}

export async function deleteApp(client: HerokuClient, id: string, name: string): Promise<void> {
    try {
        await client.request("DELETE", `/apps/${id}`, { app: name });
    } catch (err) {
        if (err instanceof HerokuError && err.status === 404) return;
        throw err;
    }
}

export interface ReleaseInputs {
    readonly app: string;
    /** Config digest (image ID) that must be released. */
    readonly imageId: string;
    /** Manifest digest of the pushed image in registry.heroku.com/<app>/web. */
    readonly manifestDigest: string;
    readonly quantity: number;
    readonly size: string;
    readonly timeoutSeconds: number;
    readonly apiKey: string;
    readonly apiUrl?: string;
    readonly registryUrl?: string;
    /** Poll interval while the release runs. @default 3 */
    readonly pollSeconds?: number;
}

export interface ReleaseOutputs extends ReleaseInputs {
    readonly releaseId: string;
    readonly version: number;
    readonly status: string;
}

interface ApiRelease {
    id: string;
    version: number;
    status: "pending" | "succeeded" | "failed" | "expired";
    output_stream_url?: string | null;
    description?: string;
}

/**
 * Releases the pushed image: reads its manifest, checks its config digest is the built image ID,
 * PATCHes the formation with that digest, waits for the release, then sets quantity and size.
 */
export async function release(client: HerokuClient, inputs: ReleaseInputs, now: () => number = Date.now): Promise<ReleaseOutputs> {
    const { manifest } = await client.manifest(inputs.app, inputs.manifestDigest);
    const configDigest = manifest.config?.digest;
    if (configDigest !== inputs.imageId) {
        throw new HerokuError(
            `release refused for app ${inputs.app}: the image in registry.heroku.com/${inputs.app}/web@${inputs.manifestDigest} has config digest ${String(configDigest)}, not the built image ID ${inputs.imageId}`,
            0,
        );
    }
    const deadline = now() + inputs.timeoutSeconds * 1000;
    const before = await newestRelease(client, inputs.app);
    await client.request("PATCH", `/apps/${inputs.app}/formation`, {
        accept: ACCEPT_DOCKER_RELEASES,
        // Heroku wants the config digest (the image ID), not the manifest digest.
        body: { updates: [{ type: "web", docker_image: configDigest }] },
        app: inputs.app,
    });
    const deployed = await releaseDone(client, inputs, before, deadline, now);
    // Only now, with the new bits running, may the dynos say which bits they are: a config var
    // change is a release of its own, so IMAGE_ID is never ahead of the image.
    await client.request("PATCH", `/apps/${inputs.app}/config-vars`, { body: { IMAGE_ID: configDigest }, app: inputs.app });
    const current = await releaseDone(client, inputs, deployed, deadline, now);
    await client.request("PATCH", `/apps/${inputs.app}/formation/web`, { body: { quantity: inputs.quantity, size: inputs.size }, app: inputs.app });
    return { ...inputs, releaseId: current.id, version: current.version, status: current.status };
}

/** Waits until a release newer than `previous` succeeds; fails on a failed or expired one, or at the deadline. */
async function releaseDone(client: HerokuClient, inputs: ReleaseInputs, previous: ApiRelease | undefined, deadline: number, now: () => number): Promise<ApiRelease> {
    for (;;) {
        const current = await newestRelease(client, inputs.app);
        const isNew = current !== undefined && (previous === undefined || current.version > previous.version);
        if (isNew && current.status === "succeeded") return current;
        if (isNew && (current.status === "failed" || current.status === "expired")) {
            throw new HerokuError(
                `release v${current.version} of app ${inputs.app} ${current.status}` +
                    (current.output_stream_url ? `; its output: ${current.output_stream_url}` : "") +
                    (current.description ? ` (${current.description})` : ""),
                0,
            );
        }
        if (now() > deadline) {
            throw new HerokuError(
                `release of app ${inputs.app} did not finish within ${inputs.timeoutSeconds} s` +
                    (current ? ` (newest: v${current.version}, ${current.status})` : "") +
                    "; raise onedigest:heroku.releaseTimeoutSeconds or check `heroku releases`",
                0,
            );
        }
        await new Promise((r) => setTimeout(r, (inputs.pollSeconds ?? 3) * 1000));
    }
}

/** Quantity or size changed but not the image: scale the web formation, no new release. */
export async function scale(client: HerokuClient, olds: ReleaseOutputs, news: ReleaseInputs): Promise<ReleaseOutputs> {
    await client.request("PATCH", `/apps/${news.app}/formation/web`, { body: { quantity: news.quantity, size: news.size }, app: news.app });
    return { ...news, releaseId: olds.releaseId, version: olds.version, status: olds.status };
}

async function newestRelease(client: HerokuClient, app: string): Promise<ApiRelease | undefined> {
    const releases = await client.request<ApiRelease[]>("GET", `/apps/${app}/releases`, { range: "version ..; order=desc, max=1", app });
    return releases[0];
}

export interface LogDrainInputs {
    readonly app: string;
    /** Where Heroku sends the app's logs (syslog+tls:// or https://); may carry a token, so a secret input. */
    readonly url: string;
    readonly apiKey: string;
    readonly apiUrl?: string;
}

export interface LogDrainOutputs extends LogDrainInputs {
    readonly drainId: string;
    /** Heroku's token for the drain (`d.<uuid>`): the syslog message's host field, what the receiver sees. */
    readonly token: string;
}

interface ApiLogDrain {
    id: string;
    token: string;
    url: string;
    addon?: { id: string } | null;
}

/** Adds the log drain: `POST /apps/{app}/log-drains` with its URL (Heroku Platform API reference, Log Drain Create). */
export async function createLogDrain(client: HerokuClient, inputs: LogDrainInputs): Promise<LogDrainOutputs> {
    const drain = await client.request<ApiLogDrain>("POST", `/apps/${inputs.app}/log-drains`, { body: { url: inputs.url }, app: inputs.app });
    return { ...inputs, drainId: drain.id, token: drain.token };
}

/** The drain as Heroku has it, or undefined when it (or its app) is gone. */
export async function readLogDrain(client: HerokuClient, id: string, state: LogDrainOutputs): Promise<LogDrainOutputs | undefined> {
    try {
        const drain = await client.request<ApiLogDrain>("GET", `/apps/${state.app}/log-drains/${id}`, { app: state.app });
        return { ...state, drainId: drain.id, token: drain.token, url: drain.url };
    } catch (err) {
        if (err instanceof HerokuError && err.status === 404) return undefined;
        throw err;
    }
}

/** A drain's URL cannot change: another URL (or app) is another drain. */
export function diffLogDrain(olds: LogDrainOutputs, news: LogDrainInputs): { changes: boolean; replaces: string[] } {
    const replaces = (["app", "url"] as const).filter((f) => olds[f] !== news[f]);
    return { changes: replaces.length > 0 || olds.apiKey !== news.apiKey || olds.apiUrl !== news.apiUrl, replaces: [...replaces] };
}

export async function deleteLogDrain(client: HerokuClient, id: string, app: string): Promise<void> {
    try {
        await client.request("DELETE", `/apps/${app}/log-drains/${id}`, { app });
    } catch (err) {
        // Deleting the app took its drains with it.
        if (err instanceof HerokuError && err.status === 404) return;
        throw err;
    }
}
