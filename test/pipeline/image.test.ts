/**
 * The image pipeline on a real Docker engine with real registries (scripts/docker-env.sh starts
 * them, on the classic or the containerd image store): the Dockerfile builds with the program's
 * build args, the container behaves as the platforms expect, and one image keeps one identity —
 * its config digest — across three registries through the program's own push.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { APP_DIR, buildArgs } from "../../image";
import { HerokuClient } from "../../providers/heroku/client";
import { release } from "../../providers/heroku/operations";
import { FakeHeroku } from "../heroku/fakeHeroku";
import { isAppContainer, reveal, runProgram } from "../mocks";
import { push } from "../../registry/operations";
import { docker, dockerResult, engineStore, expectedStore, freePort, getAnyManifest, getBlobJson, getManifest, MANIFEST_V2, OCI_MANIFEST, savedConfigDigest, waitFor } from "./docker";
import { DockerV2OnlyRegistry } from "./registries";

const REGISTRIES = {
    ecr: process.env.ONEDIGEST_REGISTRY_ECR,
    gar: process.env.ONEDIGEST_REGISTRY_GAR,
};
const GRACEFUL_TIMEOUT_MS = 6_000;
const HEROKU_APP = "pipeline-app";
const APP = { name: "pipeline", description: "pipeline test build", port: 8080, env: {} };

function timed<T>(label: string, fn: () => T): T {
    const start = Date.now();
    const report = () => console.log(`      [time] ${label}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
    const result = fn();
    if (result instanceof Promise) return result.finally(report) as T;
    report();
    return result;
}

describe("image pipeline (real Docker engine, loopback registries)", function () {
    let imageId = "";
    const args = buildArgs(APP, { ...process.env, LAST_COMMIT_SHA: "1234567890abcdef1234567890abcdef12345678" });
    const tag = "onedigest-pipeline:test";

    before(function () {
        if (!process.env.DOCKER_HOST || !REGISTRIES.ecr || !REGISTRIES.gar) {
            throw new Error("no engine: run through scripts/test.sh, which starts dockerd and the registries (scripts/docker-env.sh)");
        }
        assert.ok(args.BASE_IMAGE, "ONEDIGEST_BASE_IMAGE (the stand-in base) must be set: nothing can be pulled here");
        const buildFlags = Object.entries(args).flatMap(([k, v]) => ["--build-arg", `${k}=${v}`]);
        timed("docker build", () =>
            docker("build", "--platform", "linux/amd64", ...buildFlags, "-t", tag, "-f", path.join(APP_DIR, "Dockerfile"), APP_DIR),
        );
        // The config blob `docker save` writes, hashed: the identity every registry and Heroku see.
        imageId = savedConfigDigest(tag);
        const size = Number(docker("image", "inspect", "--format", "{{.Size}}", tag));
        console.log(`      [size] image ${imageId} (${expectedStore()} store): ${(size / 1e6).toFixed(1)} MB`);
    });

    it("runs on the image store the suite asked for; the engine's ID is the config digest on the classic store only", () => {
        assert.strictEqual(engineStore(), expectedStore());
        const engineId = docker("image", "inspect", "--format", "{{.Id}}", tag);
        if (expectedStore() === "classic") assert.strictEqual(engineId, imageId);
        else {
            // The containerd store's ID is the digest of the manifest it keeps, which names the config.
            assert.notStrictEqual(engineId, imageId);
            const kept = JSON.parse(docker("image", "inspect", "--format", "{{json .Descriptor}}", tag)) as { digest: string; mediaType: string };
            assert.strictEqual(kept.digest, engineId);
            const manifest = JSON.parse(execFileSync("bash", ["-o", "pipefail", "-c", 'docker save "$1" | tar -xO "blobs/sha256/$2"', "save", tag, engineId.slice("sha256:".length)], { encoding: "utf8" })) as { config: { digest: string } };
            assert.strictEqual(manifest.config.digest, imageId);
        }
    });

    it("has the identity shape and the build's labels, user and health check", () => {
        assert.match(imageId, /^sha256:[0-9a-f]{64}$/);
        const config = JSON.parse(docker("image", "inspect", "--format", "{{json .Config}}", tag)) as {
            Labels: Record<string, string>;
            User: string;
            Healthcheck?: { Test: string[] };
            Env: string[];
            Cmd: string[];
        };
        assert.strictEqual(config.Labels["org.opencontainers.image.version"], args.APP_VERSION);
        assert.strictEqual(config.Labels["org.opencontainers.image.revision"], "1234567890abcdef1234567890abcdef12345678");
        assert.ok(config.Labels["org.opencontainers.image.source"]);
        assert.strictEqual(config.User, "10001:10001");
        assert.deepStrictEqual(config.Cmd, ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]);
        assert.ok(config.Healthcheck && !config.Healthcheck.Test.join(" ").includes("curl"));
        assert.ok(config.Env.includes("APP_ENV=production"));
        assert.ok(!config.Env.some((e) => e.startsWith("SECRET_KEY=")));
        assert.strictEqual(docker("image", "inspect", "--format", "{{.Architecture}}/{{.Os}}", tag), "amd64/linux");
    });

    describe("the running container", () => {
        let container = "";
        let base = "";

        before(async () => {
            const port = await freePort();
            base = `http://127.0.0.1:${port}`;
            // IMAGE_ID as every target sets it: the config digest of what runs.
            container = docker("run", "-d", "--network", "host", "-e", `PORT=${port}`, "-e", "SECRET_KEY=pipeline-secret", "-e", `IMAGE_ID=${imageId}`, tag);
        });

        after(async () => {
            if (container) await dockerResult(["rm", "-f", container]);
        });

        it("answers /healthcheck with the build args' values and its image ID, and / with Hello, World!", async () => {
            const health = await waitFor("/healthcheck", 30_000, async () => {
                const res = await fetch(`${base}/healthcheck`);
                return res.ok ? ((await res.json()) as unknown) : undefined;
            });
            assert.deepStrictEqual(health, {
                myapplication: [{ version: args.APP_VERSION, description: args.APP_DESCRIPTION, lastcommitsha: "1234567890abcdef1234567890abcdef12345678", imageid: imageId }],
            });
            assert.strictEqual(await (await fetch(`${base}/`)).text(), "Hello, World!");
        });

        it("runs as a non-root UID", () => {
            assert.strictEqual(docker("exec", container, "python3", "-c", "import os; print(os.getuid(), os.getgid())"), "10001 10001");
        });

        it("turns healthy by the image's own HEALTHCHECK", async () => {
            const status = await timed("health check", () =>
                waitFor("healthy", 60_000, async () => {
                    const s = docker("inspect", "--format", "{{.State.Health.Status}}", container);
                    if (s === "unhealthy") throw new Error("container turned unhealthy");
                    return s === "healthy" ? s : undefined;
                }),
            );
            assert.strictEqual(status, "healthy");
        });

        it("stops on SIGTERM with exit code 0 well inside the graceful timeout", async () => {
            const start = Date.now();
            const stopped = await dockerResult(["stop", "--time", "20", container]);
            const elapsed = Date.now() - start;
            assert.strictEqual(stopped.code, 0, stopped.stderr);
            assert.strictEqual(docker("inspect", "--format", "{{.State.ExitCode}}", container), "0");
            assert.ok(elapsed < GRACEFUL_TIMEOUT_MS, `stop took ${elapsed} ms`);
            console.log(`      [time] docker stop: ${(elapsed / 1000).toFixed(1)} s`);
        });
    });

    it("runs under the local target's own hardening (read-only root, no capabilities) with two workers", async () => {
        const port = await freePort();
        const metricsPort = await freePort();
        // The docker.Container inputs the `local` target registers, taken from the program under mocks.
        const run = await runProgram({ targets: ["local"], app: { port }, local: { port } });
        const [spec] = run.ofType("docker:index/container:Container").filter(isAppContainer);
        const inputs = spec.inputs as { readOnly: boolean; capabilities: { drops: string[] }; securityOpts: string[]; memory: number; envs: unknown };
        assert.strictEqual(inputs.readOnly, true);
        const flags = [
            "--read-only",
            ...inputs.capabilities.drops.flatMap((c) => ["--cap-drop", c]),
            ...inputs.securityOpts.flatMap((o) => ["--security-opt", o]),
            "--memory",
            `${inputs.memory}m`,
            ...(reveal(inputs.envs) as string[]).flatMap((e) => ["-e", e]),
            "-e",
            "WEB_CONCURRENCY=2",
            // Host networking here: the metrics port must be free on this machine too.
            "-e",
            `METRICS_PORT=${metricsPort}`,
        ];
        const container = docker("run", "-d", "--network", "host", ...flags, tag);
        try {
            const base = `http://127.0.0.1:${port}`;
            await waitFor("/healthcheck under hardening", 30_000, async () => ((await fetch(`${base}/healthcheck`)).ok ? true : undefined));
            for (let i = 0; i < 4; i++) await (await fetch(`${base}/`)).text();
            // Not on the app's port; on the metrics port, which no target publishes.
            assert.strictEqual((await fetch(`${base}/metrics`)).status, 404);
            const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
            // Two workers add up their counts through files in /dev/shm: the read-only root is no obstacle.
            assert.match(metrics, /http_requests_total\{method="GET",route="\/",status="200"\} 4\.0/);
        } finally {
            await dockerResult(["rm", "-f", container]);
        }
    });

    it("writes temp files under a read-only root in the volume ECS mounts at /tmp, as Fargate fills it from the image", async () => {
        const volumes = JSON.parse(docker("image", "inspect", "--format", "{{json .Config.Volumes}}", tag)) as Record<string, unknown> | null;
        assert.deepStrictEqual(Object.keys(volumes ?? {}), ["/tmp"], "the image declares /tmp, so Fargate copies its directory");
        const write = ["python3", "-c", "import tempfile; tempfile.TemporaryFile().write(b'x'); print('ok')"];
        // A fresh volume at the declared path takes the image's /tmp (mode 1777), as Fargate's bind mount does.
        const volume = `onedigest-tmp-${Date.now()}`;
        try {
            const filled = await dockerResult(["run", "--rm", "--read-only", "--mount", `type=volume,src=${volume},dst=/tmp`, "--entrypoint", "", tag, ...write]);
            assert.strictEqual(filled.stdout.trim(), "ok", filled.stderr);
        } finally {
            await dockerResult(["volume", "rm", "-f", volume]);
        }
        // What Fargate mounts at a path the image does not declare: a root-owned 0755 directory.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-fargate-tmp-"));
        try {
            fs.chmodSync(dir, 0o755);
            const rootOwned = await dockerResult(["run", "--rm", "--read-only", "--mount", `type=bind,src=${dir},dst=/tmp`, "--entrypoint", "", tag, ...write]);
            assert.notStrictEqual(rootOwned.code, 0);
            assert.match(rootOwned.stderr, /No usable temporary directory found/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("exits non-zero with the clear message when SECRET_KEY is missing", async () => {
        const port = await freePort();
        const result = await dockerResult(["run", "--rm", "--network", "host", "-e", `PORT=${port}`, tag], 60_000);
        assert.notStrictEqual(result.code, 0);
        assert.match(result.stderr, /onedigest: configuration error: SECRET_KEY is not set: set the SECRET_KEY environment variable/);
    });

    describe("one identity across registries, through the program's push", () => {
        // Repository layouts as the real registries have them: ECR, Artifact Registry, Heroku.
        const REPOS: Record<string, string> = { ecr: "onedigest", gar: "onedigest-test/onedigest/onedigest", heroku: `${HEROKU_APP}/web` };
        const HEROKU_LOGIN = { username: "_", password: "pipeline-key" };
        const heroku = new DockerV2OnlyRegistry({ [HEROKU_LOGIN.username]: HEROKU_LOGIN.password });
        const pushed: Record<string, { digest: string; mediaType: string }> = {};
        const hosts: Record<string, string> = {};

        before(async function () {
            await heroku.start();
            Object.assign(hosts, REGISTRIES, { heroku: heroku.host });
            for (const [name, host] of Object.entries(hosts)) {
                const login: { username?: string; password?: string } = name === "heroku" ? HEROKU_LOGIN : {};
                const out = await timed(`push to ${name}`, () =>
                    push({
                        // What the program pushes from: a local name the engine resolves on either store.
                        source: tag,
                        imageId,
                        repository: `${host}/${REPOS[name]}`,
                        tag: imageId.replace(":", "-"),
                        platform: "linux/amd64",
                        manifest: name === "heroku" ? "docker-v2" : "any",
                        server: host,
                        username: login.username ?? "",
                        password: login.password ?? "",
                    }),
                );
                // Heroku's stand-in is this run's own; the engine's registries may hold the bits from an earlier run.
                if (name === "heroku") assert.strictEqual(out.pushed, true);
                pushed[name] = { digest: out.digest, mediaType: out.mediaType };
            }
        });

        after(() => heroku.stop());

        it("every registry holds one single-platform image manifest whose config digest is the image ID, with image layers only", async () => {
            for (const [name, host] of Object.entries(hosts)) {
                const { manifest, contentType, digest } = await getAnyManifest(host, REPOS[name], pushed[name].digest, name === "heroku" ? HEROKU_LOGIN : undefined);
                assert.strictEqual(digest, pushed[name].digest, name);
                assert.ok(!manifest.manifests, `${name}: an index, not one platform's manifest`);
                assert.ok([MANIFEST_V2, OCI_MANIFEST].includes(contentType), `${name}: ${contentType}`);
                assert.strictEqual(manifest.config.digest, imageId, `${name}: config digest differs from the image ID`);
                const config = await getBlobJson(host, REPOS[name], manifest.config.digest).catch(() => undefined);
                if (config) assert.deepStrictEqual([config.architecture, config.os], ["amd64", "linux"]);
                // No attestation manifests or layers: every layer is a gzip image layer.
                for (const layer of manifest.layers) assert.match(layer.mediaType, /^application\/vnd\.(docker\.image\.rootfs\.diff\.tar\.gzip|oci\.image\.layer\.v1\.tar\+gzip)$/, name);
            }
        });

        it("Heroku's registry, which takes Docker v2 schema 2 only, holds that manifest, and a v2-only client reads it", async () => {
            const { manifest, contentType, digest } = await getManifest(heroku.host, REPOS.heroku, pushed.heroku.digest, HEROKU_LOGIN);
            assert.strictEqual(contentType, MANIFEST_V2);
            assert.strictEqual(manifest.mediaType, MANIFEST_V2);
            assert.strictEqual(digest, pushed.heroku.digest);
            assert.strictEqual(manifest.config.digest, imageId);
            for (const layer of manifest.layers) assert.strictEqual(layer.mediaType, "application/vnd.docker.image.rootfs.diff.tar.gzip");
            assert.deepStrictEqual(heroku.puts.map((p) => [p.mediaType, p.status]), [[MANIFEST_V2, 201]], "one manifest PUT, of Docker v2 schema 2");
        });

        it("ECR and Artifact Registry get the manifest the engine keeps: Docker v2 on the classic store, the legacy builder's OCI manifest on the containerd store", () => {
            const want = expectedStore() === "classic" ? MANIFEST_V2 : OCI_MANIFEST;
            assert.deepStrictEqual([pushed.ecr.mediaType, pushed.gar.mediaType], [want, want]);
            assert.strictEqual(pushed.ecr.digest, pushed.gar.digest, "the same manifest, so the same digest");
            // Heroku's is that manifest where it is Docker v2, else its rewrite: another digest, the same config.
            if (want === MANIFEST_V2) assert.strictEqual(pushed.heroku.digest, pushed.ecr.digest);
            else assert.notStrictEqual(pushed.heroku.digest, pushed.ecr.digest);
        });

        it("releases on (fake) Heroku with the config digest read back from the registry", async () => {
            const fake = new FakeHeroku("pipeline-key");
            await fake.start();
            try {
                fake.apps.set("app-1", { id: "app-1", name: HEROKU_APP, region: "us", configVars: {}, releases: [], formation: { quantity: 0, size: "basic" } });
                fake.releaseOutcome = { status: "succeeded", afterPolls: 1 };
                const client = new HerokuClient({ apiKey: "pipeline-key", apiUrl: fake.url, registryUrl: `https://${heroku.host}` });
                const out = await release(client, {
                    app: HEROKU_APP,
                    imageId,
                    manifestDigest: pushed.heroku.digest,
                    quantity: 1,
                    size: "basic",
                    timeoutSeconds: 30,
                    apiKey: "pipeline-key",
                    pollSeconds: 0.05,
                });
                const formation = fake.requests.find((r) => r.method === "PATCH" && r.path === `/apps/${HEROKU_APP}/formation`)!;
                assert.deepStrictEqual(formation.body, { updates: [{ type: "web", docker_image: imageId }] });
                assert.notStrictEqual(imageId, pushed.heroku.digest, "the config digest, not the manifest digest");
                assert.strictEqual(out.status, "succeeded");
            } finally {
                await fake.stop();
            }
        });
    });
});
