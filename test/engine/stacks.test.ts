/**
 * The program through the real Pulumi CLI and engine, beyond the local stack: Heroku's dynamic
 * providers (against the fake Platform API and a real loopback registry), promotion through a
 * StackReference on the file backend, pinning by `image.ref`, a tampered promotion, and bad input.
 * Stacks keep their config files in a temporary directory; the repository is left as it was.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { FakeHeroku } from "../heroku/fakeHeroku";
import { ROOT } from "../mocks";
import { docker, freePort, getManifest } from "../pipeline/docker";
import { Stack, cliEnv, ok, tempDir } from "./cli";

const HEROKU_KEY = "engine-heroku-key-0123456789";
const SECRET = "engine-secret-key-0123456789abcdef";

async function health(port: number): Promise<{ version: string; lastcommitsha: string }> {
    const res = await fetch(`http://127.0.0.1:${port}/healthcheck`);
    assert.strictEqual(res.status, 200);
    return ((await res.json()) as { myapplication: Array<{ version: string; lastcommitsha: string }> }).myapplication[0];
}

function gitStatus(): string {
    return execFileSync("git", ["status", "--porcelain"], { cwd: ROOT, encoding: "utf8" });
}

describe("real engine: heroku, promotion, pinning and bad input", function () {
    const registry = process.env.ONEDIGEST_REGISTRY_HEROKU ?? "";
    const fake = new FakeHeroku(HEROKU_KEY);
    let scratch = "";
    let backend = "";
    let env: NodeJS.ProcessEnv = {};
    let statusBefore = "";
    const stacks: Stack[] = [];

    async function stack(name: string, config: Record<string, unknown>, secrets: Record<string, string> = {}): Promise<Stack> {
        const s = await Stack.create(name, ROOT, scratch, env, config);
        for (const [key, value] of Object.entries(secrets)) await s.setConfig(key, value, { secret: true });
        stacks.push(s);
        return s;
    }

    before(async function () {
        assert.ok(process.env.DOCKER_HOST && registry, "no engine: run through scripts/test.sh, which starts dockerd and the registries");
        statusBefore = gitStatus();
        await fake.start();
        scratch = tempDir("onedigest-engine-");
        backend = path.join(scratch, "state");
        fs.mkdirSync(backend);
        env = cliEnv(backend, { HEROKU_API_URL: fake.url, HEROKU_REGISTRY_URL: `https://${registry}` });
    });

    after(async function () {
        for (const s of stacks.reverse()) await s.remove().catch((err: Error) => console.log(`      cleanup of ${s.name}: ${err.message.split("\n")[0]}`));
        await fake.stop();
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    });

    let source: Stack;
    let sourceOutputs: { imageId: string; deployments: { heroku: { image: string; url: string; imageId: string }; local: { imageId: string } } };

    describe("heroku and local in one stack", () => {
        let localPort = 0;

        it("up creates the app, pushes once, releases the config digest and exports the URL", async () => {
            localPort = await freePort();
            source = await stack("engine-heroku", { targets: ["local", "heroku"], app: { name: "engine-heroku" }, local: { port: localPort } }, { secretKey: SECRET, herokuApiKey: HEROKU_KEY });
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
            const pushed = await getManifest(registry, "engine-heroku/web", digest);
            assert.strictEqual(pushed.digest, digest);
            assert.strictEqual(pushed.manifest.config.digest, sourceOutputs.imageId, "the registry holds the bits the stack reports");
            assert.strictEqual(sourceOutputs.deployments.local.imageId, sourceOutputs.imageId);
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
        it("promotes the other stack's image by its stack reference and runs the same image ID", async () => {
            const port = await freePort();
            const promoted = await stack("engine-promoted", { targets: ["local"], app: { name: "engine-promoted" }, local: { port }, image: { promoteFrom: "organization/onedigest/engine-heroku" } });
            const up = ok(await promoted.up(), "pulumi up engine-promoted");
            assert.ok(!/docker:index:Image\b/.test(up.stdout), "promotion must not build");
            const outputs = (await promoted.outputs()) as { imageId: string };
            assert.strictEqual(outputs.imageId, sourceOutputs.imageId);
            assert.strictEqual(docker("inspect", "--format", "{{.Image}}", "engine-promoted-local"), sourceOutputs.imageId);
            await health(port);
            assert.ok((await promoted.resourceTypes()).every((t) => t !== "docker:index/image:Image"));
        });

        it("pins image.ref (a rollback) and runs exactly those bits", async () => {
            const port = await freePort();
            const pinned = await stack("engine-pinned", { targets: ["local"], app: { name: "engine-pinned" }, local: { port }, image: { ref: sourceOutputs.deployments.heroku.image } });
            ok(await pinned.up(), "pulumi up engine-pinned");
            const outputs = (await pinned.outputs()) as { imageId: string };
            assert.strictEqual(outputs.imageId, sourceOutputs.imageId);
            assert.strictEqual(docker("inspect", "--format", "{{.Image}}", "engine-pinned-local"), sourceOutputs.imageId);
            await health(port);
            ok(await pinned.cli(["preview", "--expect-no-changes"]), "preview --expect-no-changes engine-pinned");
        });

        it("refuses a promotion whose reference points at other bits in the same registry", async () => {
            // Other bits in the same repository: a one-file image.
            const other = `${registry}/engine-heroku/web:other`;
            const layer = path.join(scratch, "other");
            fs.mkdirSync(layer);
            fs.writeFileSync(path.join(layer, "not-the-app"), "other bits\n");
            execFileSync("bash", ["-c", `tar -C "${layer}" -c . | docker import - "${other}" >/dev/null`]);
            docker("push", other);
            const otherDigest = (await getManifest(registry, "engine-heroku/web", "other")).digest;
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
            const victim = await stack("engine-victim", { targets: ["local"], app: { name: "engine-victim" }, local: { port }, image: { promoteFrom: "organization/onedigest/engine-tampered" } });
            const up = await victim.up();
            assert.notStrictEqual(up.code, 0, "a tampered promotion must fail");
            assert.match(up.stdout + up.stderr, new RegExp(`promotion refused: organization/onedigest/engine-tampered exports imageId ${sourceOutputs.imageId} but its image pulled as sha256:[0-9a-f]{64}`));
            assert.ok(!(await victim.resourceTypes()).includes("docker:index/container:Container"), "no container may run the other bits");
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
            assert.strictEqual(docker("ps", "-a", "--filter", "name=^engine-heroku-local$", "--format", "{{.Names}}"), "");
        });

        it("leaves the repository as it was", () => {
            assert.strictEqual(gitStatus(), statusBefore);
        });
    });
});
