/**
 * The heroku target's dynamic providers against a local fake Heroku API (real HTTP on loopback)
 * and a real registry (Debian's docker-registry on loopback).
 */
import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";

import { ACCEPT_DOCKER_RELEASES, HerokuClient, HerokuError, retryDelay } from "../providers/heroku/client";
import { appProvider, logDrainProvider, releaseProvider } from "../providers/heroku/resources";
import { HEROKU_APP_NAME } from "../providers/heroku";
import type { AppOutputs, LogDrainOutputs, ReleaseInputs } from "../providers/heroku/operations";
import { release, withOwnHost } from "../providers/heroku/operations";
import { FakeHeroku } from "./heroku/fakeHeroku";
import { PUSH, ROOT, TEST_SECRET, isSecret, pushLoginOf, reveal, runProgram, runProgramError } from "./mocks";
import { plainStrings } from "./helpers";
import { LocalRegistry, registryAvailable } from "./registry";

const KEY = "heroku-test-key";

describe("heroku: API client", () => {
    const fake = new FakeHeroku(KEY);
    before(() => fake.start());
    after(() => fake.stop());
    beforeEach(() => {
        fake.requests.length = 0;
        fake.failures.clear();
    });

    it("sends the v3 Accept header and bearer auth", async () => {
        const client = new HerokuClient({ apiKey: KEY, apiUrl: fake.url });
        await client.request("POST", "/apps", { body: { name: "hdrs-app", region: "us", stack: "container" } });
        const [req] = fake.requests;
        assert.strictEqual(req.headers.accept, "application/vnd.heroku+json; version=3");
        assert.strictEqual(req.headers.authorization, `Bearer ${KEY}`);
        assert.strictEqual(req.headers["content-type"], "application/json");
    });

    it("retries a 429 honouring Retry-After, then succeeds", async () => {
        const waits: number[] = [];
        const client = new HerokuClient({ apiKey: KEY, apiUrl: fake.url, sleep: async (ms) => void waits.push(ms) });
        fake.failNext("GET /apps/hdrs-app", { status: 429, headers: { "Retry-After": "2" } }, { status: 503 });
        const app = await client.request<{ name: string }>("GET", "/apps/hdrs-app");
        assert.strictEqual(app.name, "hdrs-app");
        assert.strictEqual(fake.requests.length, 3);
        assert.deepStrictEqual(waits, [2000, 1000]);
    });

    it("gives up after the last attempt with the status", async () => {
        const client = new HerokuClient({ apiKey: KEY, apiUrl: fake.url, maxAttempts: 2, sleep: async () => {} });
        fake.failNext("GET /apps/hdrs-app", { status: 500 }, { status: 500 });
        await assert.rejects(client.request("GET", "/apps/hdrs-app", { app: "hdrs-app" }), /HTTP 500 for app hdrs-app/);
    });

    it("turns 401 into a clear error naming the key to check", async () => {
        const client = new HerokuClient({ apiKey: "wrong", apiUrl: fake.url });
        await assert.rejects(
            client.request("GET", "/apps/hdrs-app", { app: "hdrs-app" }),
            (err: HerokuError) =>
                err.status === 401 &&
                err.message ===
                    "Heroku API GET /apps/hdrs-app: 401 Unauthorized — the API key was refused. Check onedigest:herokuApiKey (or HEROKU_API_KEY): create one with `heroku authorizations:create`. Heroku said: Invalid credentials provided.",
        );
    });

    it("turns 404 and 422 into errors that name the app", async () => {
        const client = new HerokuClient({ apiKey: KEY, apiUrl: fake.url });
        await assert.rejects(client.request("GET", "/apps/nope-app", { app: "nope-app" }), /404 Not Found for app nope-app — check onedigest:heroku.appName/);
        await assert.rejects(
            client.request("POST", "/apps", { body: { name: "hdrs-app", region: "us", stack: "container" }, app: "hdrs-app" }),
            /422 Unprocessable for app hdrs-app .* Heroku said: Name is already taken/,
        );
    });

    it("follows the registry's Bearer token challenge with the API key as basic credentials", async () => {
        const seen: Array<{ path: string; auth?: string; accept?: string }> = [];
        const server = http.createServer((req, res) => {
            seen.push({ path: req.url ?? "", auth: req.headers.authorization, accept: req.headers.accept });
            const port = (server.address() as AddressInfo).port;
            if (req.url?.startsWith("/token")) {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ token: "registry-token" }));
            } else if (req.headers.authorization !== "Bearer registry-token") {
                res.writeHead(401, { "WWW-Authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="registry.heroku.com",scope="repository:tok-app/web:pull"` });
                res.end();
            } else {
                res.writeHead(200, { "Content-Type": "application/vnd.docker.distribution.manifest.v2+json", "Docker-Content-Digest": "sha256:m" });
                res.end(JSON.stringify({ schemaVersion: 2, config: { digest: "sha256:c" } }));
            }
        });
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        try {
            const port = (server.address() as AddressInfo).port;
            const client = new HerokuClient({ apiKey: KEY, registryUrl: `http://127.0.0.1:${port}` });
            const { manifest, digest } = await client.manifest("tok-app", "sha256:m");
            assert.deepStrictEqual([manifest.config?.digest, digest], ["sha256:c", "sha256:m"]);
            assert.deepStrictEqual(
                seen.map((s) => s.path),
                ["/v2/tok-app/web/manifests/sha256:m", "/token?service=registry.heroku.com&scope=repository%3Atok-app%2Fweb%3Apull", "/v2/tok-app/web/manifests/sha256:m"],
            );
            assert.strictEqual(seen[1].auth, `Basic ${Buffer.from(`_:${KEY}`).toString("base64")}`);
            assert.ok(seen[0].accept!.startsWith("application/vnd.docker.distribution.manifest.v2+json"));
        } finally {
            await new Promise((r) => server.close(r));
        }
    });

    it("computes backoff from Retry-After seconds, dates, or doubling", () => {
        assert.strictEqual(retryDelay(1, "3", 500, 30_000), 3000);
        assert.strictEqual(retryDelay(1, "120", 500, 30_000), 30_000);
        assert.strictEqual(retryDelay(3, null, 500, 30_000), 2000);
        assert.strictEqual(retryDelay(1, "-5", 500, 30_000), 0);
        const inTen = retryDelay(1, new Date(Date.now() + 10_000).toUTCString(), 500, 30_000);
        assert.ok(inTen > 8_000 && inTen <= 10_000, String(inTen));
        assert.strictEqual(retryDelay(1, new Date(Date.now() - 60_000).toUTCString(), 500, 30_000), 0);
        assert.strictEqual(retryDelay(1, new Date(Date.now() + 3_600_000).toUTCString(), 500, 30_000), 30_000);
        assert.strictEqual(retryDelay(2, "soon", 500, 30_000), 1000);
    });

    it("refuses to start without an API key", () => {
        assert.throws(() => new HerokuClient({ apiKey: "" }), (err: HerokuError) => err.status === 0 && err.message === "no Heroku API key: set onedigest:herokuApiKey (secret) or HEROKU_API_KEY");
    });

    it("turns 403 into an error naming the app and whose it is; other statuses say only what happened", async () => {
        const client = new HerokuClient({ apiKey: KEY, apiUrl: fake.url, maxAttempts: 1 });
        fake.failNext("GET /apps/hdrs-app", { status: 403, body: { id: "forbidden", message: "You do not have access to the app hdrs-app." } });
        await assert.rejects(
            client.request("GET", "/apps/hdrs-app", { app: "hdrs-app" }),
            (err: HerokuError) =>
                err.status === 403 &&
                err.id === "forbidden" &&
                err.message === "Heroku API GET /apps/hdrs-app: 403 Forbidden on app hdrs-app — the API key's account may not manage it. Check the app's owner or team membership. Heroku said: You do not have access to the app hdrs-app.",
        );
        fake.failNext("GET /apps/hdrs-app", { status: 500, body: {} });
        await assert.rejects(client.request("GET", "/apps/hdrs-app"), (err: HerokuError) => err.message === "Heroku API GET /apps/hdrs-app: HTTP 500 for /apps/hdrs-app.");
    });

    it("retries when the API cannot be reached, then names the URL and the cause", async () => {
        const closed = http.createServer();
        await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
        const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
        await new Promise((r) => closed.close(r));
        const waits: number[] = [];
        const client = new HerokuClient({ apiKey: KEY, apiUrl: url, maxAttempts: 3, backoffMs: 100, sleep: async (ms) => void waits.push(ms) });
        await assert.rejects(client.request("GET", "/apps/x"), (err: HerokuError) => err.status === 0 && err.message.startsWith(`Heroku: GET ${url}/apps/x failed: TypeError: fetch failed`));
        assert.deepStrictEqual(waits, [100, 200]);
    });

    it("waits for real between attempts unless told otherwise", async () => {
        const client = new HerokuClient({ apiKey: KEY, apiUrl: fake.url, backoffMs: 150 });
        fake.failNext("GET /apps/hdrs-app", { status: 503 });
        const started = Date.now();
        await client.request("GET", "/apps/hdrs-app");
        assert.ok(Date.now() - started >= 140, `retried after ${Date.now() - started} ms`);
    });

    it("talks to Heroku's own API and registry unless told otherwise, without a trailing slash", () => {
        const client = new HerokuClient({ apiKey: KEY });
        assert.deepStrictEqual([client.apiUrl, client.registryUrl], ["https://api.heroku.com", "https://registry.heroku.com"]);
        const local = new HerokuClient({ apiKey: KEY, apiUrl: "http://127.0.0.1:1/", registryUrl: "http://127.0.0.1:2/" });
        assert.deepStrictEqual([local.apiUrl, local.registryUrl], ["http://127.0.0.1:1", "http://127.0.0.1:2"]);
    });

    describe("registry errors", () => {
        let server: http.Server;
        let registryUrl: string;
        let answer: (req: http.IncomingMessage, res: http.ServerResponse) => void;
        before(async () => {
            server = http.createServer((req, res) => answer(req, res));
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
            registryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        });
        after(() => new Promise((r) => server.close(r)));

        it("a missing manifest asks whether the image was pushed", async () => {
            answer = (_req, res) => void res.writeHead(404).end();
            const client = new HerokuClient({ apiKey: KEY, registryUrl, maxAttempts: 1 });
            await assert.rejects(client.manifest("gone-app", "sha256:m"), (err: HerokuError) => err.status === 404 && err.message === "Heroku registry GET /v2/gone-app/web/manifests/sha256:m: HTTP 404 — was the image pushed to registry.heroku.com/gone-app/web?");
        });

        it("asks for a v2 manifest first, then the other kinds (to name a wrong push), with the key as basic credentials", async () => {
            const seen: Array<{ accept?: string; auth?: string }> = [];
            answer = (req, res) => {
                seen.push({ accept: req.headers.accept, auth: req.headers.authorization });
                res.writeHead(200, { "Content-Type": "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8", "Docker-Content-Digest": "sha256:m" }).end('{"config":{"digest":"sha256:c"}}');
            };
            const client = new HerokuClient({ apiKey: KEY, registryUrl, maxAttempts: 1 });
            assert.deepStrictEqual(await client.manifest("a", "v1"), { digest: "sha256:m", manifest: { config: { digest: "sha256:c" } } });
            assert.deepStrictEqual(seen, [
                {
                    accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json",
                    auth: `Basic ${Buffer.from(`_:${KEY}`).toString("base64")}`,
                },
            ]);
        });

        it("a 401 with no Bearer challenge is an answer, not a token flow", async () => {
            for (const challenge of [undefined, 'Basic realm="registry"']) {
                const paths: string[] = [];
                answer = (req, res) => {
                    paths.push(req.url ?? "");
                    res.writeHead(401, challenge ? { "WWW-Authenticate": challenge } : {}).end();
                };
                const client = new HerokuClient({ apiKey: KEY, registryUrl, maxAttempts: 1 });
                await assert.rejects(client.manifest("a", "sha256:m"), (err: HerokuError) => err.status === 401 && err.message.startsWith("Heroku registry GET /v2/a/web/manifests/sha256:m: HTTP 401"), String(challenge));
                assert.deepStrictEqual(paths, ["/v2/a/web/manifests/sha256:m"]);
            }
        });

        it("a refused token says to check the key", async () => {
            answer = (req, res) => {
                if (req.url?.startsWith("/token")) return void res.writeHead(401).end();
                res.writeHead(401, { "WWW-Authenticate": `Bearer realm="${registryUrl}/token"` }).end();
            };
            const client = new HerokuClient({ apiKey: KEY, registryUrl, maxAttempts: 1 });
            await assert.rejects(client.manifest("a", "sha256:m"), (err: HerokuError) => err.status === 401 && err.message === "Heroku registry token: HTTP 401 — check the API key");
        });

        it("takes access_token as well as token, and a manifest without a type is not a v2 one", async () => {
            const seen: string[] = [];
            answer = (req, res) => {
                seen.push(`${req.url} ${req.headers.authorization ?? ""}`);
                if (req.url?.startsWith("/token")) return void res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ access_token: "t2" }));
                if (req.headers.authorization !== "Bearer t2") return void res.writeHead(401, { "WWW-Authenticate": `Bearer realm="${registryUrl}/token"` }).end();
                res.writeHead(200).end("{}");
            };
            const client = new HerokuClient({ apiKey: KEY, registryUrl, maxAttempts: 1 });
            await assert.rejects(client.manifest("a", "sha256:m"), (err: HerokuError) => err.message.startsWith("Heroku registry: a/web@sha256:m is , not a Docker v2 schema 2 manifest"));
            assert.deepStrictEqual(seen.map((s) => s.split(" ")[0]), ["/v2/a/web/manifests/sha256:m", "/token", "/v2/a/web/manifests/sha256:m"]);
        });
    });
});

describe("heroku: app resource (dynamic provider)", () => {
    const fake = new FakeHeroku(KEY);
    before(() => fake.start());
    after(() => fake.stop());

    let outs: AppOutputs;
    const inputs = () => ({ name: "onedigest-test", region: "eu", configVars: { SECRET_KEY: "s3cret", LOG_LEVEL: "INFO" }, apiKey: KEY, apiUrl: fake.url });

    it("creates a container-stack app and sets its config vars", async () => {
        const created = await appProvider.create(inputs());
        outs = created.outs!;
        assert.strictEqual(created.id, outs.appId);
        const [post, patch] = fake.requests;
        assert.deepStrictEqual([post.method, post.path, post.body], ["POST", "/apps", { name: "onedigest-test", region: "eu", stack: "container" }]);
        assert.deepStrictEqual([patch.method, patch.path, patch.body], ["PATCH", `/apps/${outs.appId}/config-vars`, { SECRET_KEY: "s3cret", LOG_LEVEL: "INFO" }]);
        assert.strictEqual(outs.webUrl, "https://onedigest-test-0123456789ab.herokuapp.com/");
    });

    it("creates team apps through /teams/apps", async () => {
        fake.requests.length = 0;
        await appProvider.create({ ...inputs(), name: "onedigest-team", team: "acme" });
        assert.deepStrictEqual([fake.requests[0].path, fake.requests[0].body], ["/teams/apps", { name: "onedigest-team", region: "eu", stack: "container", team: "acme" }]);
    });

    it("reads the app back, and reports a deleted app as gone", async () => {
        const read = await appProvider.read!(outs.appId, outs);
        assert.strictEqual(read.id, outs.appId);
        assert.strictEqual(read.props!.region, "eu");
        const gone = await appProvider.read!("app-404", { ...outs, appId: "app-404" });
        assert.deepStrictEqual(gone, {});
    });

    it("diffs: a rename updates in place, a region or team change replaces", async () => {
        assert.deepStrictEqual(await appProvider.diff!(outs.appId, outs, { ...inputs(), name: "onedigest-renamed" }), { changes: true, replaces: [], deleteBeforeReplace: true });
        assert.deepStrictEqual(await appProvider.diff!(outs.appId, outs, { ...inputs(), region: "us" }), { changes: true, replaces: ["region"], deleteBeforeReplace: true });
        assert.deepStrictEqual(await appProvider.diff!(outs.appId, outs, { ...inputs(), team: "acme" }), { changes: true, replaces: ["team"], deleteBeforeReplace: true });
        assert.deepStrictEqual(await appProvider.diff!(outs.appId, outs, inputs()), { changes: false, replaces: [], deleteBeforeReplace: true });
        const changedVar = { ...inputs(), configVars: { SECRET_KEY: "rotated", LOG_LEVEL: "INFO" } };
        assert.strictEqual((await appProvider.diff!(outs.appId, outs, changedVar)).changes, true);
    });

    it("renames in place and removes config vars that were dropped", async () => {
        fake.requests.length = 0;
        const updated = await appProvider.update!(outs.appId, outs, { ...inputs(), name: "onedigest-renamed", configVars: { SECRET_KEY: "s3cret" } });
        const [rename, vars] = fake.requests;
        assert.deepStrictEqual([rename.method, rename.path, rename.body], ["PATCH", `/apps/${outs.appId}`, { name: "onedigest-renamed" }]);
        assert.deepStrictEqual(vars.body, { SECRET_KEY: "s3cret", LOG_LEVEL: null });
        assert.strictEqual(updated.outs!.appId, outs.appId);
        assert.strictEqual(updated.outs!.webUrl, "https://onedigest-renamed-0123456789ab.herokuapp.com/");
        assert.deepStrictEqual(fake.apps.get(outs.appId)!.configVars, { SECRET_KEY: "s3cret" });
        outs = updated.outs!;
    });

    it("withOwnHost: FORCE_HTTPS as the app reads it adds the web URL's host, nothing else does", () => {
        const url = "https://my-app-0123456789ab.herokuapp.com/";
        for (const on of ["1", "TRUE", " yes ", "On"]) assert.deepStrictEqual(withOwnHost({ FORCE_HTTPS: on }, url), { FORCE_HTTPS: on, CANONICAL_HOST: "my-app-0123456789ab.herokuapp.com" }, on);
        for (const off of ["0", "false", "no", "off", ""]) assert.deepStrictEqual(withOwnHost({ FORCE_HTTPS: off }, url), { FORCE_HTTPS: off }, off);
        assert.deepStrictEqual(withOwnHost({ LOG_LEVEL: "INFO" }, url), { LOG_LEVEL: "INFO" });
    });

    it("with FORCE_HTTPS on, CANONICAL_HOST is the app's own host: at create, after a rename, gone with FORCE_HTTPS", async () => {
        const https = { ...inputs(), name: "onedigest-https", configVars: { SECRET_KEY: "s3cret", FORCE_HTTPS: "1" } };
        const created = (await appProvider.create(https)).outs!;
        assert.deepStrictEqual(fake.apps.get(created.appId)!.configVars, { SECRET_KEY: "s3cret", FORCE_HTTPS: "1", CANONICAL_HOST: "onedigest-https-0123456789ab.herokuapp.com" });
        assert.deepStrictEqual(created.configVars, https.configVars, "not an input: no diff on the next preview");
        assert.strictEqual((await appProvider.diff!(created.appId, created, https)).changes, false);
        const renamed = (await appProvider.update!(created.appId, created, { ...https, name: "onedigest-https2" })).outs!;
        assert.strictEqual(fake.apps.get(created.appId)!.configVars.CANONICAL_HOST, "onedigest-https2-0123456789ab.herokuapp.com");
        // Another change, no rename: the host the app has stays.
        const logged = (await appProvider.update!(created.appId, renamed, { ...https, name: "onedigest-https2", configVars: { ...https.configVars, LOG_LEVEL: "INFO" } })).outs!;
        assert.strictEqual(fake.apps.get(created.appId)!.configVars.CANONICAL_HOST, "onedigest-https2-0123456789ab.herokuapp.com");
        await appProvider.update!(created.appId, logged, { ...https, name: "onedigest-https2", configVars: { SECRET_KEY: "s3cret", FORCE_HTTPS: "0" } });
        assert.deepStrictEqual(fake.apps.get(created.appId)!.configVars, { SECRET_KEY: "s3cret", FORCE_HTTPS: "0" });
        await appProvider.delete!(created.appId, renamed);
    });

    it("deletes the app (and tolerates one already gone)", async () => {
        await appProvider.delete!(outs.appId, outs);
        assert.strictEqual(fake.apps.has(outs.appId), false);
        await appProvider.delete!(outs.appId, outs);
    });
});

describe("heroku: log drain resource (dynamic provider)", () => {
    const fake = new FakeHeroku(KEY);
    before(() => fake.start());
    after(() => fake.stop());

    const URL_A = "syslog+tls://logs.example.com:6514";
    let app = "";
    let drain: LogDrainOutputs;
    before(async () => {
        app = (await appProvider.create({ name: "onedigest-drained", region: "eu", configVars: {}, apiKey: KEY, apiUrl: fake.url })).outs!.name;
    });
    const inputs = (url = URL_A) => ({ app, url, apiKey: KEY, apiUrl: fake.url });

    it("adds the drain with POST /apps/{app}/log-drains and its URL, keeping the ID and token Heroku gives it", async () => {
        fake.requests.length = 0;
        const created = await logDrainProvider.create(inputs());
        drain = created.outs!;
        const [post] = fake.requests;
        assert.deepStrictEqual([post.method, post.path, post.body, post.headers.accept], ["POST", `/apps/${app}/log-drains`, { url: URL_A }, "application/vnd.heroku+json; version=3"]);
        const stored = fake.apps.get([...fake.apps.values()].find((a) => a.name === app)!.id)!.drains ?? [];
        assert.deepStrictEqual(stored.map((d) => [d.id, d.url]), [[created.id, URL_A]]);
        assert.strictEqual(drain.token, stored[0].token);
    });

    it("reads the drain back, and reports one that is gone", async () => {
        const read = await logDrainProvider.read!(drain.drainId, drain);
        assert.deepStrictEqual([read.id, read.props!.url, read.props!.token], [drain.drainId, URL_A, drain.token]);
        assert.deepStrictEqual(await logDrainProvider.read!("drain-404", { ...drain, drainId: "drain-404" }), {});
    });

    it("diffs: another URL or app is another drain; a new key alone changes nothing at Heroku", async () => {
        assert.deepStrictEqual(await logDrainProvider.diff!(drain.drainId, drain, inputs("https://in.logs.example.com/heroku")), { changes: true, replaces: ["url"] });
        assert.deepStrictEqual(await logDrainProvider.diff!(drain.drainId, drain, { ...inputs(), app: "other" }), { changes: true, replaces: ["app"] });
        assert.deepStrictEqual(await logDrainProvider.diff!(drain.drainId, drain, inputs()), { changes: false, replaces: [] });
        fake.requests.length = 0;
        const updated = await logDrainProvider.update!(drain.drainId, drain, { ...inputs(), apiKey: KEY });
        assert.deepStrictEqual([updated.outs!.drainId, fake.requests.length], [drain.drainId, 0]);
    });

    it("deletes the drain, and tolerates one already gone with its app", async () => {
        await logDrainProvider.delete!(drain.drainId, drain);
        assert.deepStrictEqual(fake.requests.filter((r) => r.method === "DELETE").map((r) => r.path), [`/apps/${app}/log-drains/${drain.drainId}`]);
        assert.deepStrictEqual([...fake.apps.values()].find((a) => a.name === app)!.drains, []);
        await logDrainProvider.delete!(drain.drainId, drain);
    });
});

describe("heroku: release resource (fake API + real registry)", function () {
    const fake = new FakeHeroku(KEY);
    const registry = new LocalRegistry();
    let image: { configDigest: string; manifestDigest: string };

    before(async function () {
        if (!registryAvailable()) {
            if (process.env.CI === "true") throw new Error("docker-registry is not installed (scripts/docker-env.sh install)");
            console.log("      skipped: docker-registry not installed (apt-get install docker-registry)");
            this.skip();
        }
        await Promise.all([fake.start(), registry.start()]);
        fake.apps.set("app-1", { id: "app-1", name: "rel-app", region: "us", configVars: {}, releases: [], formation: { quantity: 0, size: "basic" } });
        image = await registry.writeImage("rel-app/web", "latest", "release-test");
    });
    after(() => Promise.all([fake.stop(), registry.stop()]));
    beforeEach(() => {
        fake.requests.length = 0;
        fake.releaseOutcome = { status: "succeeded", afterPolls: 2 };
    });

    const releaseInputs = (over: Partial<ReleaseInputs> = {}): ReleaseInputs => ({
        app: "rel-app",
        imageId: image.configDigest,
        manifestDigest: image.manifestDigest,
        quantity: 1,
        size: "basic",
        timeoutSeconds: 10,
        apiKey: KEY,
        apiUrl: fake.url,
        registryUrl: `http://${registry.host}`,
        pollSeconds: 0.01,
        ...over,
    });

    it("releases the config digest (not the manifest digest) and waits for success", async () => {
        assert.notStrictEqual(image.configDigest, image.manifestDigest);
        const created = await releaseProvider.create(releaseInputs());
        const formation = fake.requests.find((r) => r.method === "PATCH" && r.path === "/apps/rel-app/formation")!;
        assert.strictEqual(formation.headers.accept, ACCEPT_DOCKER_RELEASES);
        assert.strictEqual(formation.headers.authorization, `Bearer ${KEY}`);
        assert.deepStrictEqual(formation.body, { updates: [{ type: "web", docker_image: image.configDigest }] });
        const polls = fake.requests.filter((r) => r.path === "/apps/rel-app/releases");
        assert.ok(polls.length >= 2);
        assert.strictEqual(polls[0].headers.range, "version ..; order=desc, max=1");
        const scale = fake.requests[fake.requests.length - 1];
        assert.deepStrictEqual([scale.method, scale.path, scale.body], ["PATCH", "/apps/rel-app/formation/web", { quantity: 1, size: "basic" }]);
        assert.strictEqual(created.outs!.status, "succeeded");
        assert.strictEqual(created.id, `rel-app-v${created.outs!.version}`);
        assert.strictEqual(created.outs!.imageId, image.configDigest);
    });

    it("sets IMAGE_ID only after the new image's release succeeded, as a release of its own", async () => {
        fake.requests.length = 0;
        const created = await releaseProvider.create(releaseInputs());
        const steps = fake.requests.map((r) => `${r.method} ${r.path}`);
        const formation = steps.indexOf("PATCH /apps/rel-app/formation");
        const imageId = fake.requests.findIndex((r) => r.method === "PATCH" && r.path === "/apps/rel-app/config-vars");
        assert.deepStrictEqual(fake.requests[imageId].body, { IMAGE_ID: image.configDigest });
        // Between the two: polls until the image's release succeeded.
        assert.ok(formation >= 0 && imageId > formation + 1, steps.join("\n"));
        const app = [...fake.apps.values()].find((a) => a.name === "rel-app")!;
        assert.strictEqual(app.configVars.IMAGE_ID, image.configDigest);
        assert.match(app.releases[created.outs!.version - 1].description, /IMAGE_ID/);
    });

    it("scales without a new release when only quantity or size change", async () => {
        const olds = { ...releaseInputs(), releaseId: "rel-1", version: 1, status: "succeeded" };
        const updated = await releaseProvider.update!("x", olds, releaseInputs({ quantity: 2, size: "standard-1x" }));
        assert.deepStrictEqual(
            fake.requests.map((r) => [r.method, r.path, r.body]),
            [["PATCH", "/apps/rel-app/formation/web", { quantity: 2, size: "standard-1x" }]],
        );
        assert.deepStrictEqual([updated.outs!.version, updated.outs!.quantity], [1, 2]);
    });

    it("fails the update with the release's status and output URL when the release fails", async () => {
        fake.releaseOutcome = { status: "failed", afterPolls: 1 };
        const newImage = await registry.writeImage("rel-app/web", "v2", "release-test-2");
        const olds = { ...releaseInputs(), releaseId: "r", version: 1, status: "succeeded" };
        await assert.rejects(releaseProvider.update!("x", olds, releaseInputs({ imageId: newImage.configDigest, manifestDigest: newImage.manifestDigest })), (err: Error) => {
            assert.match(err.message, /^release v\d+ of app rel-app failed; its output: https:\/\/release-output\.heroku\.com\/streams\/\d+/);
            return true;
        });
        assert.ok(!fake.requests.some((r) => r.path === "/apps/rel-app/formation/web"), "must not scale after a failed release");
    });

    it("names a failed release alone when Heroku gives no output stream or description", async () => {
        fake.releaseOutcome = { status: "failed", afterPolls: 1, bare: true };
        const newImage = await registry.writeImage("rel-app/web", "v3", "release-test-3");
        const olds = { ...releaseInputs(), releaseId: "r", version: 1, status: "succeeded" };
        await assert.rejects(releaseProvider.update!("x", olds, releaseInputs({ imageId: newImage.configDigest, manifestDigest: newImage.manifestDigest })), (err: Error) => /^release v\d+ of app rel-app failed$/.test(err.message));
    });

    it("releases (does not only scale) when the same bits go to another app", async () => {
        const olds = { ...releaseInputs({ app: "old-app" }), releaseId: "r", version: 1, status: "succeeded" };
        await releaseProvider.update!("x", olds, releaseInputs());
        assert.ok(fake.requests.some((r) => r.method === "PATCH" && r.path === "/apps/rel-app/formation"), "the image was not released to the new app");
    });

    it("fails on an expired release with its output and description", async () => {
        fake.releaseOutcome = { status: "expired", afterPolls: 1 };
        const newImage = await registry.writeImage("rel-app/web", "v4", "release-test-4");
        await assert.rejects(releaseProvider.create(releaseInputs({ imageId: newImage.configDigest, manifestDigest: newImage.manifestDigest })), (err: Error) =>
            /^release v(\d+) of app rel-app expired; its output: https:\/\/release-output\.heroku\.com\/streams\/\1 \(Deployed web \([0-9a-f]{12}\)\)$/.test(err.message),
        );
    });

    it("polls every pollSeconds, for real", async () => {
        fake.releaseOutcome = { status: "succeeded", afterPolls: 3 };
        const started = Date.now();
        await release(new HerokuClient({ apiKey: KEY, apiUrl: fake.url, registryUrl: `http://${registry.host}` }), releaseInputs({ pollSeconds: 0.1 }));
        const took = Date.now() - started;
        assert.ok(took >= 180 && took < 2500, `took ${took} ms`);
    });

    it("refuses a manifest with no config digest, naming what it found", async () => {
        const server = http.createServer((_req, res) => void res.writeHead(200, { "Content-Type": "application/vnd.docker.distribution.manifest.v2+json" }).end('{"schemaVersion":2}'));
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
        try {
            const registryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
            await assert.rejects(
                release(new HerokuClient({ apiKey: KEY, apiUrl: fake.url, registryUrl }), releaseInputs({ manifestDigest: "sha256:m" })),
                (err: Error) => err.message === `release refused for app rel-app: the image in registry.heroku.com/rel-app/web@sha256:m has config digest undefined, not the built image ID ${image.configDigest}`,
            );
        } finally {
            await new Promise((r) => server.close(r));
        }
    });

    it("refuses an image whose config digest is not the built image ID", async () => {
        const other = `sha256:${"0".repeat(64)}`;
        await assert.rejects(
            releaseProvider.create(releaseInputs({ imageId: other })),
            (err: Error) =>
                err.message ===
                `release refused for app rel-app: the image in registry.heroku.com/rel-app/web@${image.manifestDigest} has config digest ${image.configDigest}, not the built image ID ${other}`,
        );
        assert.ok(!fake.requests.some((r) => r.path === "/apps/rel-app/formation"), "nothing may be released");
    });

    it("refuses an OCI index (a multi-platform or attestation push) before releasing", async () => {
        const indexDigest = await registry.writeIndex("rel-app/web", "with-provenance", image);
        await assert.rejects(
            releaseProvider.create(releaseInputs({ manifestDigest: indexDigest })),
            (err: Error) =>
                err.message ===
                `Heroku registry: rel-app/web@${indexDigest} is application/vnd.oci.image.index.v1+json, not a Docker v2 schema 2 manifest; Heroku releases only single-platform v2 images (build without provenance/attestations)`,
        );
        assert.ok(!fake.requests.some((r) => r.path === "/apps/rel-app/formation"), "nothing may be released");
    });

    it("gives up after the timeout with the newest release's state", async () => {
        fake.releaseOutcome = { status: "succeeded", afterPolls: 1_000_000 };
        let t = 0;
        await assert.rejects(release(new HerokuClient({ apiKey: KEY, apiUrl: fake.url, registryUrl: `http://${registry.host}` }), releaseInputs({ timeoutSeconds: 1 }), () => (t += 400)), /did not finish within 1 s \(newest: v\d+, pending\)/);
    });

    it("waits for the release its change made, not the finished one before it", async () => {
        const current = { id: "rel-1", version: 1, status: "succeeded", output_stream_url: null, description: "Deployed web (earlier)" };
        fake.apps.set("app-3", { id: "app-3", name: "lag-app", region: "us", configVars: {}, releases: [current], formation: { quantity: 1, size: "basic" } });
        fake.releaseOutcome = { status: "succeeded", afterPolls: 1, unlistedPolls: 2 };
        const newImage = await registry.writeImage("lag-app/web", "v5", "release-test-5");
        const outs = await release(new HerokuClient({ apiKey: KEY, apiUrl: fake.url, registryUrl: `http://${registry.host}` }), releaseInputs({ app: "lag-app", imageId: newImage.configDigest, manifestDigest: newImage.manifestDigest }));
        const releases = fake.apps.get("app-3")!.releases;
        assert.strictEqual(releases.length, 3);
        assert.strictEqual(releases[releases.length - 2].description, `Deployed web (${newImage.configDigest.slice(7, 19)})`);
        assert.deepStrictEqual([outs.version, outs.status], [releases.length, "succeeded"], "the release after IMAGE_ID was set");
        assert.strictEqual(releases[releases.length - 2].status, "succeeded", "the image's own release was waited for");
    });

    it("at the deadline with no release listed at all, says so without a newest one", async () => {
        fake.apps.set("app-2", { id: "app-2", name: "new-app", region: "us", configVars: {}, releases: [], formation: { quantity: 0, size: "basic" } });
        await registry.writeImage("new-app/web", "latest", "release-test");
        fake.releaseOutcome = { status: "succeeded", afterPolls: 1, unlistedPolls: 1_000 };
        const clock = [0, 2000];
        await assert.rejects(
            release(new HerokuClient({ apiKey: KEY, apiUrl: fake.url, registryUrl: `http://${registry.host}` }), releaseInputs({ app: "new-app", timeoutSeconds: 1 }), () => clock.shift() ?? 5000),
            (err: Error) => err.message === "release of app new-app did not finish within 1 s; raise onedigest:heroku.releaseTimeoutSeconds or check `heroku releases`",
        );
    });

    it("polls until the clock is past the deadline, not at it, then says what to change", async () => {
        fake.releaseOutcome = { status: "succeeded", afterPolls: 1_000_000 };
        const clock = [0, 500, 1000, 1001];
        await assert.rejects(
            release(new HerokuClient({ apiKey: KEY, apiUrl: fake.url, registryUrl: `http://${registry.host}` }), releaseInputs({ timeoutSeconds: 1 }), () => clock.shift() ?? 5000),
            (err: Error) => /^release of app rel-app did not finish within 1 s \(newest: v\d+, pending\); raise onedigest:heroku\.releaseTimeoutSeconds or check `heroku releases`$/.test(err.message),
        );
        assert.strictEqual(fake.requests.filter((r) => r.method === "GET" && r.path.startsWith("/apps/rel-app/releases")).length, 4, "one look before the release, then polls at 500, 1000 and 1001 ms");
    });

    it("diffs on image, digest and formation, not on credentials", async () => {
        const olds = { ...releaseInputs(), releaseId: "r", version: 1, status: "succeeded" };
        assert.deepStrictEqual(await releaseProvider.diff!("x", olds, releaseInputs()), { changes: false });
        assert.deepStrictEqual(await releaseProvider.diff!("x", olds, releaseInputs({ imageId: `sha256:${"1".repeat(64)}` })), { changes: true });
        assert.deepStrictEqual(await releaseProvider.diff!("x", olds, releaseInputs({ apiKey: "rotated" })), { changes: false });
    });
});

describe("heroku: the target in the mocked program", () => {
    it("pushes to registry.heroku.com/<app>/web and releases the built image ID", async () => {
        const run = await runProgram({ targets: ["heroku"], herokuApiKey: "hk-secret-123", heroku: { appName: "shop-prod", region: "eu" } });
        const [app] = run.ofType("pulumi-nodejs:dynamic/heroku:App");
        assert.deepStrictEqual([app.inputs.name, app.inputs.region], ["shop-prod", "eu"]);
        const [push] = run.ofType(PUSH);
        assert.strictEqual(push.inputs.repository, "registry.heroku.com/shop-prod/web");
        assert.match(String(push.inputs.tag), /^sha256-[0-9a-f]{64}$/);
        // Heroku releases only Docker v2 schema 2 manifests.
        assert.strictEqual(push.inputs.manifest, "docker-v2");
        assert.deepStrictEqual(pushLoginOf(push), { server: "registry.heroku.com", username: "_", password: "hk-secret-123" });
        const [rel] = run.ofType("pulumi-nodejs:dynamic/heroku:Release");
        assert.strictEqual(rel.inputs.imageId, run.outputs.imageId);
        assert.match(String(rel.inputs.manifestDigest), /^sha256:[0-9a-f]{64}$/);
        assert.deepStrictEqual([rel.inputs.quantity, rel.inputs.size], [1, "basic"]);
        const d = (run.outputs.deployments as Record<string, { url: string; image: string }>).heroku;
        assert.strictEqual(d.url, "https://shop-prod-0123456789ab.herokuapp.com");
        assert.strictEqual(d.image, `registry.heroku.com/shop-prod/web@${String(rel.inputs.manifestDigest)}`);
    });

    it("keeps SECRET_KEY and the API key out of plain state", async () => {
        const run = await runProgram({ targets: ["heroku"], herokuApiKey: "hk-secret-123" });
        const [app] = run.ofType("pulumi-nodejs:dynamic/heroku:App");
        assert.ok(isSecret(app.inputs.configVars), "configVars must be a secret");
        // The Heroku router is the one proxy in front of the dyno.
        // Heroku serves TLS on every app: plain HTTP is redirected.
        assert.deepStrictEqual(reveal(app.inputs.configVars), { FORCE_HTTPS: "1", PROXY_FIX_COUNT: "1", SECRET_KEY: TEST_SECRET });
        assert.ok(isSecret(app.inputs.apiKey), "the API key must be a secret");
        for (const r of run.mocks.resources) assert.ok(!plainStrings(r.inputs).some((s) => s.includes(TEST_SECRET) || s.includes("hk-secret-123")), `${r.name} holds a secret in plain`);
        // The serialized provider code carries no credentials either.
        assert.ok(!String(app.inputs.__provider).includes("hk-secret-123"));
    });

    it("takes the API key from HEROKU_API_KEY when the config has none", async () => {
        process.env.HEROKU_API_KEY = "from-env-key";
        try {
            const run = await runProgram({ targets: ["heroku"] });
            assert.strictEqual(reveal(run.ofType("pulumi-nodejs:dynamic/heroku:App")[0].inputs.apiKey), "from-env-key");
        } finally {
            delete process.env.HEROKU_API_KEY;
        }
    });
});

describe("heroku: bad input, exact messages, nothing registered", () => {
    const nameRule = "a Heroku app name: 3-30 characters of a-z, 0-9 and '-', starting with a letter, ending with a letter or digit";
    const cases: Array<[string, Record<string, unknown>, string]> = [
        ["app name with capitals", { heroku: { appName: "MyApp" } }, `onedigest:heroku.appName: got "MyApp"; expected ${nameRule}. Fix: pulumi config set --path onedigest:heroku.appName myapp-prod`],
        ["app name too short", { heroku: { appName: "ab" } }, `onedigest:heroku.appName: got "ab"; expected ${nameRule}. Fix: pulumi config set --path onedigest:heroku.appName myapp-prod`],
        ["app name starting with a digit", { heroku: { appName: "1shop" } }, `onedigest:heroku.appName: got "1shop"; expected ${nameRule}. Fix: pulumi config set --path onedigest:heroku.appName myapp-prod`],
        ["unknown region", { heroku: { region: "ap" } }, `onedigest:heroku.region: got "ap"; expected one of us, eu. Fix: pulumi config set --path onedigest:heroku.region us`],
        [
            "basic dynos scaled out",
            { heroku: { quantity: 3 } },
            `onedigest:heroku.quantity: got 3; expected 0 or 1 for basic dynos (scale out with standard-1x or larger). Fix: pulumi config set --path onedigest:heroku.quantity 1`,
        ],
    ];
    for (const [what, config, message] of cases) {
        it(what, async () => {
            const result = await runProgramError({ targets: ["heroku"], herokuApiKey: "k", ...config });
            assert.strictEqual(result.message, message);
            assert.deepStrictEqual(result.resources, []);
        });
    }

    it("missing API key", async () => {
        delete process.env.HEROKU_API_KEY;
        const result = await runProgramError({ targets: ["heroku"] });
        assert.strictEqual(
            result.message,
            "onedigest:herokuApiKey: got (not set); expected a Heroku API key (secret), or the HEROKU_API_KEY environment variable. Fix: pulumi config set --secret onedigest:herokuApiKey <key from `heroku authorizations:create`>",
        );
        assert.deepStrictEqual(result.resources, []);
    });

    it("a long onedigest:app.name still gives a valid default app name, one per stack", async () => {
        const name = async (stack: string) =>
            String((await runProgram({ targets: ["heroku"], herokuApiKey: "k", app: { name: "a-very-long-application-name-x1" } }, { stack })).ofType("pulumi-nodejs:dynamic/heroku:App")[0].inputs.name);
        const [dev, prod] = [await name("dev"), await name("prod")];
        for (const n of [dev, prod]) assert.match(n, HEROKU_APP_NAME);
        assert.notStrictEqual(dev, prod);
        // Globally unique names carry a hash of organization/project/stack even when short enough.
        const short = (await runProgram({ targets: ["heroku"], herokuApiKey: "k" }, { stack: "dev" })).ofType("pulumi-nodejs:dynamic/heroku:App")[0].inputs.name;
        assert.match(String(short), /^onedigest-dev-[0-9a-f]{6}$/);
    });
});

describe("heroku: the serialized provider runs in a fresh process", () => {
    const fake = new FakeHeroku("fresh-process-key");
    before(() => fake.start());
    after(() => fake.stop());

    it("creates the app from the code Pulumi stores, with no TypeScript loader preloaded", async () => {
        const run = await runProgram({ targets: ["heroku"], herokuApiKey: "fresh-process-key" });
        const [app] = run.ofType("pulumi-nodejs:dynamic/heroku:App");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-provider-"));
        try {
            const file = path.join(dir, "provider.js");
            fs.writeFileSync(file, String(app.inputs.__provider));
            const inputs = { name: "fresh-app", region: "us", configVars: { SECRET_KEY: "x" }, apiKey: "fresh-process-key", apiUrl: fake.url };
            const script = `const h = require(${JSON.stringify(file)}).handler; (typeof h === "function" ? h() : h).create(${JSON.stringify(inputs)}).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e); process.exit(1); });`;
            const out = await new Promise<string>((resolve, reject) =>
                execFile(process.execPath, ["-e", script], { env: { PATH: process.env.PATH, NODE_PATH: path.join(ROOT, "node_modules") }, timeout: 60_000 }, (err, stdout, stderr) =>
                    err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
                ),
            );
            const result = JSON.parse(out.trim().split("\n").pop()!) as { id: string; outs: { webUrl: string } };
            assert.match(result.id, /^app-\d+$/);
            assert.strictEqual(result.outs.webUrl, "https://fresh-app-0123456789ab.herokuapp.com/");
            assert.deepStrictEqual(fake.requests.map((r) => `${r.method} ${r.path}`), ["POST /apps", `PATCH /apps/${result.id}/config-vars`]);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
