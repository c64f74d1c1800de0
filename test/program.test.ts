import * as assert from "assert";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

import { TARGET_KINDS, modules } from "../providers";
import { generatedSecretProvider } from "../providers/generatedSecret";
import { HEALTH_PROBE, engineProbe } from "../providers/local";
import { GRACEFUL_TIMEOUT_SECONDS } from "../providers/types";
import { apiAtLeast } from "../registry/engine";
import { beforeProgram } from "./helpers";
import { PUSH, isAppContainer, ROOT, TEST_SECRET, hex, invokeError, isSecret, registryRef, reveal, runProgram, runProgramError, type ProgramRun } from "./mocks";

const IMAGE_ID = /^sha256:[0-9a-f]{64}$/;


/** The app's pulled images (the local target's Prometheus image is pulled too: localPrometheus.test.ts). */
function appImages(run: ProgramRun) {
    return run.ofType("docker:index/remoteImage:RemoteImage").filter((r) => !r.name.endsWith("-prometheus-image"));
}

describe("program: local stack", () => {
    it("generates the SECRET_KEY into the stack's state when none is set, and keeps it secret", async () => {
        const run = await runProgram({ targets: ["local"], secretKey: null });
        const [generated] = run.ofType("pulumi-nodejs:dynamic/onedigest:GeneratedSecret");
        assert.strictEqual(generated.name, "onedigest-secret-key");
        assert.strictEqual(generated.inputs.bytes, 32);
        const [container] = run.ofType("docker:index/container:Container").filter(isAppContainer);
        assert.ok(isSecret(container.inputs.envs));
        assert.ok((reveal(container.inputs.envs) as string[]).includes(`SECRET_KEY=generated-${hex("onedigest-secret-key").slice(0, 32)}`));
    });

    it("the generated secret is 32 random bytes, hex, made once per resource", async () => {
        const first = await generatedSecretProvider.create!({ bytes: 32 });
        const second = await generatedSecretProvider.create!({ bytes: 32 });
        assert.match(first.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.match(String(first.outs?.value), /^[0-9a-f]{64}$/);
        assert.strictEqual(first.outs?.bytes, 32);
        assert.notStrictEqual(first.outs?.value, second.outs?.value);
        assert.notStrictEqual(first.id, second.id);
    });

    it("uses the configured secretKey and generates none when it is set", async () => {
        const run = await runProgram({ targets: ["local"] });
        assert.strictEqual(run.ofType("pulumi-nodejs:dynamic/onedigest:GeneratedSecret").length, 0);
    });

    it("probes every 500 ms while the container starts, with the image's own healthcheck, where the engine honours it (API 1.44+)", async () => {
        const dockerfile = fs.readFileSync(path.join(ROOT, "app", "Dockerfile"), "utf8");
        const line = /^HEALTHCHECK --interval=(\S+) --timeout=(\S+) --start-period=(\S+) --retries=(\d+) \\\n\s+CMD (\[.*\])$/m.exec(dockerfile);
        assert.ok(line, "app/Dockerfile's HEALTHCHECK");
        assert.deepStrictEqual(HEALTH_PROBE, { tests: ["CMD", ...(JSON.parse(line[5]) as string[])], interval: line[1], timeout: line[2], startPeriod: line[3], retries: Number(line[4]) });
        for (const api of ["1.51", "1.44", "2.0"]) {
            const run = await runProgram({ targets: ["local"] }, { engineApiVersion: api });
            const [container] = run.ofType("docker:index/container:Container").filter((c) => c.name === "onedigest-local-container");
            assert.deepStrictEqual(container.inputs.healthcheck, { ...HEALTH_PROBE, startInterval: "500ms" }, api);
        }
        for (const api of ["1.43", "1.41", null]) {
            const run = await runProgram({ targets: ["local"] }, { engineApiVersion: api });
            const [container] = run.ofType("docker:index/container:Container").filter((c) => c.name === "onedigest-local-container");
            assert.strictEqual(container.inputs.healthcheck, undefined, `${api}: the image's healthcheck as it is`);
            assert.strictEqual(container.inputs.wait, true);
        }
    });

    it("API versions compare number by number; an engine that does not answer in time leaves the healthcheck alone", async () => {
        for (const [v, least, ok] of [["1.44", "1.44", true], ["1.45", "1.44", true], ["1.9", "1.44", false], ["1.100", "1.44", true], ["2", "1.44", true], ["1", "1.44", false], ["1.44.1", "1.44", true]] as const) {
            assert.strictEqual(apiAtLeast(v, least), ok, `${v} >= ${least}`);
        }
        const saved = { ...engineProbe };
        try {
            engineProbe.apiVersion = () => new Promise(() => undefined);
            engineProbe.timeoutMs = 50;
            const settings = { port: 8080, restart: "no", memoryMb: 512, prometheusPort: 9090, scrapeSeconds: 15 } as const;
            const t0 = Date.now();
            assert.deepStrictEqual(await modules.local.prepare(settings, { app: { name: "a", stack: "s", production: false } }), settings);
            assert.ok(Date.now() - t0 < 5_000);
            engineProbe.apiVersion = () => Promise.resolve("1.47");
            assert.deepStrictEqual(await modules.local.prepare(settings, { app: { name: "a", stack: "s", production: false } }), { ...settings, engineApiVersion: "1.47" });
        } finally {
            Object.assign(engineProbe, saved);
        }
    });

    it("builds one image and runs it by ID on the local engine", async () => {
        const run = await runProgram({ targets: ["local"] });
        const images = run.ofType("docker:index/image:Image");
        assert.strictEqual(images.length, 1);
        const build = images[0].inputs.build as Record<string, unknown>;
        assert.strictEqual(images[0].inputs.skipPush, true);
        assert.strictEqual(build.platform, "linux/amd64");
        const args = build.args as Record<string, string>;
        assert.deepStrictEqual(Object.keys(args).filter((k) => k !== "BASE_IMAGE").sort(), ["APP_DESCRIPTION", "APP_VERSION", "LAST_COMMIT_SHA"]);
        assert.strictEqual(args.APP_VERSION, "0.1.0");
        // The commit being built: CI's variable where set, else this checkout's HEAD.
        const head = process.env.LAST_COMMIT_SHA ?? process.env.GITHUB_SHA ?? execFileSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
        assert.strictEqual(args.LAST_COMMIT_SHA, head);

        const [container] = run.ofType("docker:index/container:Container").filter(isAppContainer);
        const imageId = run.outputs.imageId as string;
        assert.match(imageId, IMAGE_ID);
        assert.strictEqual(imageId, `sha256:${hex(`image-config:${images[0].name}`)}`);
        assert.strictEqual(container.inputs.image, imageId);
        assert.deepStrictEqual(container.inputs.ports, [{ internal: 8080, external: 8080, ip: "127.0.0.1" }]);
        assert.strictEqual(container.inputs.restart, "unless-stopped");
        assert.strictEqual(container.inputs.wait, true);
        assert.strictEqual(container.inputs.readOnly, true);
        assert.deepStrictEqual(container.inputs.capabilities, { drops: ["ALL"] });
        assert.deepStrictEqual(container.inputs.securityOpts, ["no-new-privileges:true"]);
        assert.ok(Number(container.inputs.stopTimeout) > GRACEFUL_TIMEOUT_SECONDS, "stop timeout must exceed gunicorn's graceful timeout");
        // The program's idea of the grace period is gunicorn's own default.
        const conf = fs.readFileSync(path.join(ROOT, "app", "gunicorn.conf.py"), "utf8");
        assert.strictEqual(/GUNICORN_GRACEFUL_TIMEOUT", "(\d+)"/.exec(conf)?.[1], String(GRACEFUL_TIMEOUT_SECONDS));
        // The env list holds SECRET_KEY, so the whole list is stored as a secret.
        assert.ok(isSecret(container.inputs.envs));
        const envs = reveal(container.inputs.envs) as string[];
        assert.ok(envs.includes("PORT=8080"));
        assert.ok(envs.includes(`SECRET_KEY=${TEST_SECRET}`));
    });

    it("exports imageId, deployments and url in the contract's shapes", async () => {
        const run = await runProgram({ targets: ["local"], local: { port: 9090, prometheusPort: 9091 } });
        const { imageId, deployments, url } = run.outputs as { imageId: string; deployments: Record<string, Record<string, string>>; url: string };
        assert.match(imageId, IMAGE_ID);
        assert.deepStrictEqual(Object.keys(deployments), ["local"]);
        assert.deepStrictEqual(deployments.local, { url: "http://localhost:9090", image: imageId, imageId, dashboard: "http://127.0.0.1:9091" });
        assert.strictEqual(url, "http://localhost:9090");
    });

    it("keeps SECRET_KEY out of every export", async () => {
        const run = await runProgram({ targets: ["local"] });
        assert.ok(!JSON.stringify(run.outputs).includes(TEST_SECRET));
    });
});

describe("program: image sources", () => {
    const pinnedId = `sha256:${hex("pinned-config")}`;
    const pinned = registryRef("registry.example.com/team/app", pinnedId);
    const auth = { registryAuth: [{ address: "registry.example.com", username: "u", password: "p" }] };

    it("with image.ref builds nothing, reads the config digest from the registry first, and runs the pulled image by ID", async () => {
        const run = await runProgram({ targets: ["local"], image: { ref: pinned }, ...auth });
        assert.strictEqual(run.ofType("docker:index/image:Image").length, 0);
        const [pulled] = appImages(run);
        assert.strictEqual(pulled.inputs.name, pinned);
        assert.strictEqual(run.outputs.imageId, pinnedId);
        // The manifest of that digest, read with the stack's login for that registry.
        const [repository, digest] = pinned.split("@");
        assert.deepStrictEqual(run.mocks.registryReads, [{ url: `https://${repository.replace("/", "/v2/")}/manifests/${digest}`, authorization: `Basic ${Buffer.from("u:p").toString("base64")}` }]);
        const [tag] = run.ofType("docker:index/tag:Tag");
        assert.deepStrictEqual([tag.inputs.sourceImage, tag.inputs.targetImage], [pinned, `onedigest:${pinnedId.replace(":", "-")}`]);
        assert.strictEqual(run.ofType("docker:index/container:Container").filter(isAppContainer)[0].inputs.image, pinnedId);
    });

    it("with image.ref on the containerd store runs what the engine pulled by its repository and manifest digest", async () => {
        const run = await runProgram({ targets: ["local"], image: { ref: pinned }, ...auth }, { store: "containerd" });
        assert.strictEqual(run.outputs.imageId, pinnedId);
        assert.strictEqual(run.ofType("docker:index/container:Container").filter(isAppContainer)[0].inputs.image, `onedigest@${pinned.split("@")[1]}`);
    });

    it("refuses a ref whose registry answers other bytes than its digest names, before any resource", async () => {
        const other = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.v2+json", config: { digest: `sha256:${hex("other")}`, size: 1 }, layers: [] }));
        const { message, resources } = await runProgramError({ targets: ["local"], image: { ref: pinned }, ...auth }, { manifests: { [pinned]: other } });
        assert.strictEqual(message, `onedigest:image.ref: cannot read ${pinned} from its registry: registry registry.example.com/team/app@${pinned.split("@")[1]} answered a manifest whose digest is sha256:${createHash("sha256").update(other).digest("hex")}`);
        assert.deepStrictEqual(resources, []);
    });

    it("stops before any resource when the registry's login cannot be had (a token invoke refused)", async () => {
        const ecr = registryRef("210987654321.dkr.ecr.us-east-1.amazonaws.com/team/app", pinnedId);
        const invokes = { "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => { throw invokeError("AccessDeniedException: not authorized to perform ecr:GetAuthorizationToken"); } };
        const { message, resources } = await runProgramError({ targets: ["local"], image: { ref: ecr } }, { invokes });
        assert.strictEqual(message, "onedigest:image.ref: no login for 210987654321.dkr.ecr.us-east-1.amazonaws.com: AccessDeniedException: not authorized to perform ecr:GetAuthorizationToken");
        assert.deepStrictEqual(resources, []);
    });

    it("refuses a ref its registry does not hold, before any resource", async () => {
        const missing = `registry.example.com/team/app@sha256:${hex("missing")}`;
        const { message, resources } = await runProgramError({ targets: ["local"], image: { ref: missing }, ...auth });
        assert.strictEqual(message, `onedigest:image.ref: cannot read ${missing} from its registry: ${missing} is not in its registry (no manifest with that digest)`);
        assert.deepStrictEqual(resources, []);
    });

    it("with image.promoteFrom deploys the other stack's bits and builds nothing", async () => {
        const promotedId = `sha256:${hex("dev-config")}`;
        const ref = registryRef("europe-west1-docker.pkg.dev/p/onedigest/onedigest", promotedId);
        const run = await runProgram(
            { targets: ["local"], image: { promoteFrom: "acme/onedigest/dev" } },
            { stacks: { "acme/onedigest/dev": { imageId: promotedId, deployments: { "gcp-cloudrun": { url: "https://x", image: ref, imageId: promotedId } } } } },
        );
        assert.strictEqual(run.ofType("docker:index/image:Image").length, 0);
        assert.strictEqual(run.ofType("pulumi:pulumi:StackReference").length, 1);
        assert.strictEqual(appImages(run)[0].inputs.name, ref);
        assert.strictEqual(run.outputs.imageId, promotedId);
        // Artifact Registry's login: the caller's access token.
        assert.deepStrictEqual(run.mocks.registryReads.map((r) => r.authorization), [`Basic ${Buffer.from("oauth2accesstoken:ya29.short-lived-token").toString("base64")}`]);
    });

    it("refuses a promotion whose registry image has another config digest than the stack exports, before any resource but the stack reference", async () => {
        const ref = registryRef("europe-west1-docker.pkg.dev/p/onedigest/onedigest", `sha256:${hex("tampered")}`);
        const stacks = { "acme/onedigest/dev": { imageId: `sha256:${hex("dev-config")}`, deployments: { "gcp-cloudrun": { image: ref } } } };
        const { message, resources } = await runProgramError({ targets: ["local"], image: { promoteFrom: "acme/onedigest/dev" } }, { stacks });
        assert.strictEqual(message, `promotion refused: acme/onedigest/dev exports imageId sha256:${hex("dev-config")} but its image ${ref} has config digest sha256:${hex("tampered")}`);
        assert.deepStrictEqual(resources.map((r) => r.type), ["pulumi:pulumi:StackReference"]);
    });
});

describe("program: the kind → module map", () => {
    it("covers every target kind with a module of that kind", () => {
        assert.deepStrictEqual(Object.keys(modules).sort(), [...TARGET_KINDS].sort());
        for (const kind of TARGET_KINDS) assert.strictEqual(modules[kind].kind, kind);
    });

    it("is the only place outside a target's own module that names a kind (one module + one line adds a target)", () => {
        const root = path.join(__dirname, "..");
        const sources = ["index.ts", "config.ts", "image.ts", "validate.ts", ...fs.readdirSync(path.join(root, "providers")).map((f) => `providers/${f}`)]
            .flatMap((f) => (fs.statSync(path.join(root, f)).isDirectory() ? fs.readdirSync(path.join(root, f)).map((g) => `${f}/${g}`) : [f]))
            .filter((f) => f.endsWith(".ts") && f !== "providers/index.ts");
        for (const kind of TARGET_KINDS) {
            const naming = sources.filter((f) => fs.readFileSync(path.join(root, f), "utf8").includes(`"${kind}"`));
            const own = naming.filter((f) => f.toLowerCase().replace(/[^a-z]/g, "").includes(kind.replace(/[^a-z]/g, "")));
            assert.deepStrictEqual(naming, own, `${kind} is named outside its module: ${naming.join(", ")}`);
        }
    });

    it("gives every module its own settings key", () => {
        const keys = TARGET_KINDS.map((k) => modules[k].settingsKey);
        assert.strictEqual(new Set(keys).size, keys.length);
    });
});

describe("program: the image's resources", () => {
    const GCP = { "gcp:project": "onedigest-test", "gcp:region": "europe-west1" };
    let run: ProgramRun;
    beforeProgram(async () => {
        run = await runProgram({ targets: ["gcp-cloudrun"], ...GCP });
    });

    it("builds app/Dockerfile into a local image named <app>:<version>-<stack>, pushed by nobody but the targets", () => {
        const [image] = run.ofType("docker:index/image:Image");
        const version = (JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version;
        assert.strictEqual(image.inputs.imageName, `onedigest:${version}-test`);
        assert.strictEqual(image.inputs.skipPush, true);
        const build = image.inputs.build as Record<string, unknown>;
        assert.strictEqual(build.context, path.join(ROOT, "app"));
        assert.strictEqual(build.dockerfile, path.join(ROOT, "app", "Dockerfile"));
        assert.strictEqual(build.platform, "linux/amd64");
    });

    it("tags the build locally by its image ID: the name the engine runs and pushes it by", () => {
        const [image] = run.ofType("docker:index/image:Image");
        const [tag] = run.ofType("docker:index/tag:Tag");
        assert.deepStrictEqual([tag.name, tag.inputs.sourceImage, tag.inputs.targetImage], ["onedigest-tag", image.inputs.imageName, `onedigest:${String(run.outputs.imageId).replace(":", "-")}`]);
        assert.ok((run.mocks.dependencies.get(tag.name) ?? []).includes(image.name));
    });

    it("pushes the built image by its ID, tagged by it, after the build and its registry", () => {
        const [image] = run.ofType("docker:index/image:Image");
        const [push] = run.ofType(PUSH);
        const [repository] = run.ofType("gcp:artifactregistry/repository:Repository");
        const deps = run.mocks.dependencies.get(push.name) ?? [];
        assert.ok(deps.includes(image.name) && deps.includes(repository.name) && deps.includes("onedigest-tag"), `the push depends on ${deps.join(", ")}`);
        // The classic store: the engine's ID is the config digest, and the engine resolves it.
        assert.strictEqual(push.inputs.source, run.outputs.imageId);
        assert.strictEqual(push.inputs.imageId, run.outputs.imageId);
        assert.strictEqual(push.inputs.tag, String(run.outputs.imageId).replace(":", "-"));
        assert.strictEqual(push.inputs.platform, "linux/amd64");
        const [service] = run.ofType("gcp:cloudrunv2/service:Service");
        assert.ok((run.mocks.dependencies.get(service.name) ?? []).includes(push.name), "the service does not wait for the push");
    });

    it("puts each push inside the target's component", () => {
        const [push] = run.ofType(PUSH);
        assert.strictEqual(run.mocks.parents.get(push.name), "onedigest-gcp-cloudrun");
    });
});

describe("program: image IDs are checked where they are read", () => {
    const pinnedId = `sha256:${hex("pinned-config")}`;
    const ref = registryRef("registry.example.com/team/app", pinnedId);
    const auth = { registryAuth: [{ address: "registry.example.com", username: "u", password: "p" }] };
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

    it("the built image's", async () => {
        const states = { "docker:index/image:Image": () => ({ repoDigest: "sha256:short" }) };
        await assert.rejects(runProgram({ targets: ["local"] }, { states }), /the built image's ID is not an image ID \(sha256:<64 hex>\): "sha256:short"/);
    });

    it("a pinned ref's, pulled and kept in the engine: its engine ID must be its config digest or its own digest", async () => {
        await assert.rejects(runProgram({ targets: ["local"], image: { ref }, ...auth }, { pulledIds: { [ref]: "latest" } }), new RegExp(`the ID of ${escape(ref)} is not an image ID`));
        const other = `sha256:${hex("other")}`;
        await assert.rejects(
            runProgram({ targets: ["local"], image: { ref }, ...auth }, { pulledIds: { [ref]: other } }),
            new RegExp(`onedigest:image.ref: ${escape(ref)} pulled as ${other}, which is neither its config digest ${pinnedId} nor its manifest digest$`),
        );
        const run = await runProgram({ targets: ["local"], image: { ref }, ...auth });
        assert.strictEqual(appImages(run)[0].inputs.keepLocally, true);
    });

    it("a promoted stack's, read from the stack named in promoteFrom", async () => {
        const id = `sha256:${hex("dev-config")}`;
        const promoted = registryRef("europe-west1-docker.pkg.dev/p/onedigest/onedigest", id);
        const stacks = (imageId: string) => ({ "acme/onedigest/dev": { imageId, deployments: { "gcp-cloudrun": { image: promoted } } } });
        await assert.rejects(runProgram({ targets: ["local"], image: { promoteFrom: "acme/onedigest/dev" } }, { stacks: stacks("v1") }), /acme\/onedigest\/dev's imageId is not an image ID \(sha256:<64 hex>\): "v1"/);
        const run = await runProgram({ targets: ["local"], image: { promoteFrom: "acme/onedigest/dev" } }, { stacks: stacks(id) });
        assert.strictEqual(run.ofType("pulumi:pulumi:StackReference")[0].inputs.name, "acme/onedigest/dev");
        assert.strictEqual(appImages(run)[0].inputs.keepLocally, true);
    });
});
