/**
 * The program through the real Pulumi CLI and engine, on either of Docker's image stores, beyond
 * the local stack: Heroku's dynamic providers (against the fake Platform API and a real loopback
 * registry that refuses anonymous clients, as every private registry does, and every manifest but
 * Docker v2 schema 2, as Heroku's does), promotion through a StackReference on the file backend,
 * pinning by `image.ref` with a login from `onedigest:registryAuth` and that login's rotation, a
 * tampered promotion, and bad input. The identity is checked on the real things: the config digest
 * in `docker save` of what each container runs and in each registry's manifest. Stacks keep their
 * config files in a temporary directory; the repository is left as it was.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { APP_DIR, buildArgs } from "../../image";
import { FakeHeroku } from "../heroku/fakeHeroku";
import { ROOT } from "../mocks";
import { MANIFEST_V2, docker, engineStore, expectedStore, freePort, getAnyManifest, getManifest, savedConfigDigest } from "../pipeline/docker";
import { DockerV2OnlyRegistry } from "../pipeline/registries";

function dockerExit(...args: string[]): number {
    try {
        execFileSync("docker", args, { stdio: "ignore" });
        return 0;
    } catch (err) {
        return (err as { status?: number }).status ?? 1;
    }
}
import { Stack, changedSteps, cliEnv, ok, run, tempDir } from "./cli";

const HEROKU_KEY = "engine-heroku-key-0123456789";
const SECRET = "engine-secret-key-0123456789abcdef";
/** A second user of the registry, for `onedigest:registryAuth`, and its password before and after rotation. */
const PULLER = "puller";
const PULL_TOKENS = ["pull-token-one-0123", "pull-token-two-4567"];
const HEROKU_LOGIN = { username: "_", password: HEROKU_KEY };

async function health(port: number): Promise<{ version: string; lastcommitsha: string }> {
    const res = await fetch(`http://127.0.0.1:${port}/healthcheck`);
    assert.strictEqual(res.status, 200);
    return ((await res.json()) as { myapplication: Array<{ version: string; lastcommitsha: string }> }).myapplication[0];
}

function gitStatus(): string {
    return execFileSync("git", ["status", "--porcelain"], { cwd: ROOT, encoding: "utf8" });
}

describe("real engine: heroku, promotion, pinning and bad input", function () {
    // Heroku's registry, and behind it (backend.host) a plain one for the test's own docker pushes.
    const secure = new DockerV2OnlyRegistry({ _: HEROKU_KEY, [PULLER]: PULL_TOKENS[0] });
    let registry = "";
    const fake = new FakeHeroku(HEROKU_KEY);
    let scratch = "";
    let backend = "";
    let env: NodeJS.ProcessEnv = {};
    let statusBefore = "";
    const stacks: Stack[] = [];

    async function stack(name: string, config: Record<string, unknown>, secrets: Record<string, string> = {}, stackEnv: NodeJS.ProcessEnv = env): Promise<Stack> {
        const s = await Stack.create(name, ROOT, scratch, stackEnv, config);
        for (const [key, value] of Object.entries(secrets)) await s.setConfig(key, value, { secret: true });
        stacks.push(s);
        return s;
    }

    before(async function () {
        assert.ok(process.env.DOCKER_HOST && process.env.NODE_EXTRA_CA_CERTS, "no engine: run through scripts/test.sh, which starts dockerd and the registries");
        assert.strictEqual(engineStore(), expectedStore(), "the engine runs the image store the suite started it with");
        statusBefore = gitStatus();
        await secure.start();
        registry = secure.host;
        await fake.start();
        scratch = tempDir("onedigest-engine-");
        backend = path.join(scratch, "state");
        fs.mkdirSync(backend);
        env = cliEnv(backend, { HEROKU_API_URL: fake.url, HEROKU_REGISTRY_URL: `https://${registry}` });
    });

    after(async function () {
        for (const s of stacks.reverse()) await s.remove().catch((err: Error) => console.log(`      cleanup of ${s.name}: ${err.message.split("\n")[0]}`));
        await fake.stop();
        await secure.stop();
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    });

    /**
     * An environment whose docker CLI is logged in (as Heroku's `_`) to the registry behind the Heroku
     * stand-in, for the test's own pushes: the docker CLI's legacy builds push OCI manifests from the
     * containerd store, which the stand-in refuses. What they push is read through the stand-in.
     */
    function loggedIn(): NodeJS.ProcessEnv {
        const dockerConfig = path.join(scratch, "docker-config");
        const loginEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
        if (!fs.existsSync(dockerConfig)) {
            fs.mkdirSync(dockerConfig);
            execFileSync("docker", ["login", secure.backend.host, "-u", "_", "--password-stdin"], { input: HEROKU_KEY, env: loginEnv, stdio: ["pipe", "ignore", "pipe"] });
        }
        return loginEnv;
    }

    /** The config digest of what a container runs, from `docker save` of its image. */
    function runningConfigDigest(container: string): string {
        return savedConfigDigest(docker("inspect", "--format", "{{.Image}}", container));
    }

    let source: Stack;
    let sourceOutputs: { imageId: string; deployments: { heroku: { image: string; url: string; imageId: string }; local: { image: string; imageId: string } } };

    describe("heroku and local in one stack", () => {
        let localPort = 0;

        it("up creates the app, pushes once, releases the config digest and exports the URL", async () => {
            localPort = await freePort();
            source = await stack(
                "engine-heroku",
                { targets: ["local", "heroku"], app: { name: "engine-heroku" }, heroku: { appName: "engine-heroku" }, local: { port: localPort, prometheusPort: await freePort() } },
                { secretKey: SECRET, herokuApiKey: HEROKU_KEY },
            );
            ok(await source.up(), "pulumi up engine-heroku");
            sourceOutputs = (await source.outputs()) as typeof sourceOutputs;

            const created = fake.requests.filter((r) => r.method === "POST" && r.path === "/apps");
            assert.strictEqual(created.length, 1);
            assert.strictEqual(fake.requests.filter((r) => r.method === "PATCH" && /\/formation$/.test(r.path)).length, 1);
            const app = [...fake.apps.values()].find((a) => a.name === "engine-heroku");
            assert.ok(app, "the fake API holds the app");
            assert.strictEqual(app.formation.docker_image, sourceOutputs.imageId, "the release names the config digest");
            assert.strictEqual(app.configVars.SECRET_KEY, SECRET);

            const { image, url, imageId } = sourceOutputs.deployments.heroku;
            assert.strictEqual(imageId, sourceOutputs.imageId);
            assert.strictEqual(url, "https://engine-heroku-0123456789ab.herokuapp.com");
            const [repo, digest] = image.split("@");
            assert.strictEqual(repo, `${registry}/engine-heroku/web`);
            // The registry answers only to logins: the push went through the provider's registryAuth.
            assert.strictEqual((await fetch(`https://${registry}/v2/engine-heroku/web/manifests/${digest}`)).status, 401);
            // A Docker v2 schema 2 manifest, as a v2-only client reads it, with the stack's config digest.
            const pushed = await getManifest(registry, "engine-heroku/web", digest, HEROKU_LOGIN);
            assert.strictEqual(pushed.digest, digest);
            assert.strictEqual(pushed.contentType, MANIFEST_V2);
            assert.strictEqual(pushed.manifest.config.digest, sourceOutputs.imageId, "the registry holds the bits the stack reports");
            assert.deepStrictEqual(secure.puts.map((p) => [p.repository, p.mediaType, p.status]), [["engine-heroku/web", MANIFEST_V2, 201]], "one push, never another kind");
            // The local container runs the same bits: `docker save` of its image names that config.
            assert.strictEqual(sourceOutputs.deployments.local.imageId, sourceOutputs.imageId);
            assert.strictEqual(runningConfigDigest("engine-heroku-engine-heroku"), sourceOutputs.imageId);
            assert.strictEqual((await health(localPort)).version, "0.1.0");
        });

        it("a repeat preview has no changes", async () => {
            ok(await source.cli(["preview", "--expect-no-changes", "--diff"]), "preview --expect-no-changes engine-heroku");
        });

        it("stores the API key and SECRET_KEY only as secrets in state", async () => {
            const exported = ok(await source.cli(["stack", "export"], { config: false }), "stack export").stdout;
            assert.ok(!exported.includes(HEROKU_KEY), "the Heroku API key is in plain text in the state");
            assert.ok(!exported.includes(SECRET), "the SECRET_KEY is in plain text in the state");
        });
    });

    describe("promotion and pinning (no build)", () => {
        it("promotes the other stack's image by its bare stack name (a pull through the Heroku login) and runs the same image ID", async () => {
            const port = await freePort();
            const promoted = await stack(
                "engine-promoted",
                { targets: ["local"], app: { name: "engine-promoted" }, local: { port, prometheusPort: await freePort() }, image: { promoteFrom: "engine-heroku" } },
                { herokuApiKey: HEROKU_KEY },
            );
            const up = ok(await promoted.up(), "pulumi up engine-promoted");
            assert.ok(!/docker:index:Image\b/.test(up.stdout), "promotion must not build");
            const outputs = (await promoted.outputs()) as { imageId: string };
            assert.strictEqual(outputs.imageId, sourceOutputs.imageId);
            assert.strictEqual(runningConfigDigest("engine-promoted-engine-promoted"), sourceOutputs.imageId);
            await health(port);
            assert.ok((await promoted.resourceTypes()).every((t) => t !== "docker:index/image:Image"));
            // The deploy workflow's check after prod's up, on these two stacks.
            const promotion = await run("bash", ["scripts/check-promotion.sh", "engine-promoted", "engine-heroku"], { cwd: ROOT, env });
            assert.strictEqual(promotion.code, 0, promotion.stderr);
            assert.strictEqual(promotion.stdout.trim(), `check-promotion: engine-promoted runs engine-heroku's image ${sourceOutputs.imageId}, and built nothing`);
            const built = await run("bash", ["scripts/check-promotion.sh", "engine-heroku", "engine-promoted"], { cwd: ROOT, env });
            assert.strictEqual(built.code, 1);
            assert.match(built.stderr, /check-promotion: engine-heroku holds an image build; a promoted stack must deploy engine-promoted's image, not build one/);
        });

        let pinned: Stack;
        it("pins image.ref to an earlier build (a rollback) in a registry logged in to through onedigest:registryAuth", async () => {
            // An earlier build of the app, pushed with a login and then gone from this engine, so
            // the pinned stack has to pull it: manifest and config from the registry, with a login.
            const rollbackSha = "0b1e55ed0b1e55ed0b1e55ed0b1e55ed0b1e55ed";
            const tag = `${secure.backend.host}/engine-heroku/web:rollback`;
            const args = buildArgs({ name: "engine-heroku", description: "onedigest Flask app", port: 8080, env: {} }, { ...process.env, LAST_COMMIT_SHA: rollbackSha });
            docker("build", "-q", ...Object.entries(args).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]), "-t", tag, APP_DIR);
            const rollbackId = savedConfigDigest(tag);
            assert.notStrictEqual(rollbackId, sourceOutputs.imageId);
            const engineId = docker("image", "inspect", "--format", "{{.Id}}", tag);
            execFileSync("docker", ["push", tag], { env: loggedIn(), stdio: "ignore" });
            // What the docker CLI pushed: Docker v2 from the classic store, the legacy builder's OCI manifest from the containerd store.
            const earlier = await getAnyManifest(registry, "engine-heroku/web", "rollback", HEROKU_LOGIN);
            assert.strictEqual(earlier.manifest.config.digest, rollbackId);
            assert.strictEqual(earlier.contentType, expectedStore() === "classic" ? MANIFEST_V2 : "application/vnd.oci.image.manifest.v1+json");
            const digest = earlier.digest;
            docker("image", "rm", tag);
            assert.notStrictEqual(dockerExit("image", "inspect", engineId), 0, "the engine still has the earlier build");
            const ref = `${registry}/engine-heroku/web@${digest}`;

            const port = await freePort();
            // Not the Heroku registry as far as this stack knows: its login must come from registryAuth.
            const plainEnv = { ...env, HEROKU_REGISTRY_URL: undefined };
            pinned = await stack("engine-pinned", { targets: ["local"], app: { name: "engine-pinned" }, local: { port, prometheusPort: await freePort() }, image: { ref } }, {}, plainEnv);
            const refused = await pinned.cli(["preview"]);
            assert.notStrictEqual(refused.code, 0);
            assert.ok((refused.stdout + refused.stderr).includes(`onedigest:registryAuth: got (not set); expected credentials for ${registry}, which onedigest:image.ref pulls from`), refused.stdout + refused.stderr);
            await pinned.setConfig("registryAuth[0].address", registry, { secret: true, path: true });
            await pinned.setConfig("registryAuth[0].username", PULLER, { secret: true, path: true });
            // A wrong password first: the registry refuses the pull, so the login is really used.
            await pinned.setConfig("registryAuth[0].password", "not-the-password", { secret: true, path: true });
            const denied = await pinned.up();
            assert.notStrictEqual(denied.code, 0, "a pull with a wrong password must fail");
            // Refused where the program reads the ref's manifest, before any resource.
            assert.match(denied.stdout + denied.stderr, /onedigest:image\.ref: cannot read \S+ from its registry: .*HTTP 401 — the registry refused the login/);
            await pinned.setConfig("registryAuth[0].password", PULL_TOKENS[0], { secret: true, path: true });
            ok(await pinned.up(), "pulumi up engine-pinned");
            const outputs = (await pinned.outputs()) as { imageId: string };
            assert.strictEqual(outputs.imageId, rollbackId, "the config digest the registry's manifest names");
            assert.strictEqual(runningConfigDigest("engine-pinned-engine-pinned"), rollbackId);
            assert.strictEqual((await health(port)).lastcommitsha, rollbackSha, "the earlier build serves");
            ok(await pinned.cli(["preview", "--expect-no-changes"]), "preview --expect-no-changes engine-pinned");
            const exported = ok(await pinned.cli(["stack", "export"], { config: false }), "stack export").stdout;
            assert.ok(!exported.includes(PULL_TOKENS[0]), "the registry password is in plain text in the state");
        });

        it("a rotated registry password changes the provider only: no pull, no container replaced", async () => {
            await secure.restart({ _: HEROKU_KEY, [PULLER]: PULL_TOKENS[1] });
            await pinned.setConfig("registryAuth[0].password", PULL_TOKENS[1], { secret: true, path: true });
            const preview = ok(await pinned.cli(["preview", "--json"]), "preview --json engine-pinned");
            assert.deepStrictEqual(changedSteps(preview.stdout).filter((step) => !step.includes(" pulumi:providers:docker ")), []);
            ok(await pinned.up(), "pulumi up engine-pinned after rotation");
            ok(await pinned.cli(["preview", "--expect-no-changes"]), "preview --expect-no-changes after rotation");
            const exported = ok(await pinned.cli(["stack", "export"], { config: false }), "stack export").stdout;
            assert.ok(!exported.includes(PULL_TOKENS[1]), "the rotated password is in plain text in the state");
        });

        it("refuses a promotion whose reference points at other bits in the same registry", async () => {
            // Other bits in the same repository: a one-file image, pushed with a login of its own.
            const other = `${secure.backend.host}/engine-heroku/web:other`;
            const layer = path.join(scratch, "other");
            fs.mkdirSync(layer);
            fs.writeFileSync(path.join(layer, "not-the-app"), "other bits\n");
            execFileSync("bash", ["-c", `tar -C "${layer}" -c . | docker import - "${other}" >/dev/null`]);
            execFileSync("docker", ["push", other], { env: loggedIn(), stdio: "ignore" });
            docker("image", "rm", other);
            const otherDigest = (await getAnyManifest(registry, "engine-heroku/web", "other", HEROKU_LOGIN)).digest;
            // A stack whose outputs claim the tested image ID but point at the other digest.
            const tampered = await stack("engine-tampered", {});
            const state = {
                version: 3,
                deployment: {
                    manifest: { time: new Date().toISOString(), magic: "", version: "" },
                    resources: [
                        {
                            urn: "urn:pulumi:engine-tampered::onedigest::pulumi:pulumi:Stack::onedigest-engine-tampered",
                            custom: false,
                            type: "pulumi:pulumi:Stack",
                            outputs: { imageId: sourceOutputs.imageId, deployments: { heroku: { ...sourceOutputs.deployments.heroku, image: `${registry}/engine-heroku/web@${otherDigest}` } } },
                        },
                    ],
                },
            };
            const file = path.join(scratch, "tampered.json");
            fs.writeFileSync(file, JSON.stringify(state));
            ok(await tampered.cli(["stack", "import", "--file", file], { config: false }), "stack import engine-tampered");

            const port = await freePort();
            const victim = await stack(
                "engine-victim",
                { targets: ["local"], app: { name: "engine-victim" }, local: { port, prometheusPort: await freePort() }, image: { promoteFrom: "organization/onedigest/engine-tampered" } },
                { herokuApiKey: HEROKU_KEY },
            );
            const up = await victim.up();
            assert.notStrictEqual(up.code, 0, "a tampered promotion must fail");
            assert.match(up.stdout + up.stderr, new RegExp(`promotion refused: organization/onedigest/engine-tampered exports imageId ${sourceOutputs.imageId} but its image ${registry}/engine-heroku/web@${otherDigest} has config digest sha256:[0-9a-f]{64}`));
            // Refused before any resource: nothing pulled, nothing run.
            assert.deepStrictEqual((await victim.resourceTypes()).filter((t) => t.startsWith("docker:")), [], "no pull, no container of the other bits");
        });
    });

    describe("bad input through the real CLI", () => {
        it("fails preview and up with the program's message and creates nothing", async () => {
            const bad = await stack("engine-bad", { targets: ["local"], app: { name: "engine-bad" } });
            ok(await bad.cli(["config", "set", "--path", "onedigest:app.port", "80"]), "config set");
            ok(await bad.cli(["config", "set", "--path", "onedigest:local.restart", "sometimes"]), "config set");
            const preview = await bad.cli(["preview"]);
            assert.notStrictEqual(preview.code, 0);
            const out = preview.stdout + preview.stderr;
            assert.ok(out.includes("2 configuration problems:"), out);
            assert.ok(out.includes("onedigest:app.port: got 80; expected an integer from 1024 to 65535. Fix: pulumi config set --path onedigest:app.port 8080"), out);
            assert.ok(out.includes(`onedigest:local.restart: got "sometimes"; expected one of no, on-failure, always, unless-stopped. Fix: pulumi config set --path onedigest:local.restart unless-stopped`), out);
            assert.ok(!/\n\s+at .*\(.*\.ts:\d+/.test(out), "no stack trace for a config error");
            const up = await bad.up();
            assert.notStrictEqual(up.code, 0);
            assert.deepStrictEqual((await bad.resourceTypes()).filter((t) => t !== "pulumi:pulumi:Stack"), []);
        });
    });

    describe("afterwards", () => {
        it("destroy deletes the Heroku app through the API", async () => {
            const index = stacks.indexOf(source);
            await source.remove();
            stacks.splice(index, 1);
            assert.ok(fake.requests.some((r) => r.method === "DELETE" && /^\/apps\/[^/]+$/.test(r.path)), "DELETE /apps/{app} was sent");
            assert.ok(![...fake.apps.values()].some((a) => a.name === "engine-heroku"));
            assert.strictEqual(docker("ps", "-a", "--filter", "name=^engine-heroku-engine-heroku$", "--format", "{{.Names}}"), "");
        });

        it("leaves the repository as it was", () => {
            assert.strictEqual(gitStatus(), statusBefore);
        });
    });
});
