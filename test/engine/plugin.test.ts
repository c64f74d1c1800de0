/**
 * onedigest's own Docker provider plugin (plugins/docker, built and installed by
 * scripts/docker-plugin.sh), through the real Pulumi CLI and engine against the real Docker engine
 * and a loopback registry that answers only to logins:
 *
 * - the schema it serves has every resource, function and type of @pulumi/docker 5.2.0 with the
 *   SDK's property names, and it reports version 5.2.0;
 * - each resource the program uses — Image (a native build), Tag, RegistryImage (a push logged in
 *   through the provider's registryAuth), RemoteImage (a pull by digest) and Container — is created,
 *   read (refresh), diffed, updated and deleted, with effects checked on the engine and the registry;
 * - bad input gets the resource's own error.
 *
 * It runs on either of Docker's image stores: on the containerd store an image's engine ID is a
 * manifest digest, and the config digest (the Image's repoDigest) is read from `docker save`.
 *
 * What it cannot show: behaviour of the official plugin (pulumi/pulumi-docker) where it differs
 * from this one. The bridged resources run kreuzwerker's Terraform provider code as the official
 * plugin does; Image is this plugin's own implementation of the SDK's documented behaviour.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";

import { ROOT } from "../mocks";
import { docker, engineStore, expectedStore, freePort, getManifest, savedConfigDigest, waitFor } from "../pipeline/docker";
import { SecureRegistry } from "../registry";
import { Stack, changedSteps, cliEnv, ok, run, tempDir } from "./cli";

const FIXTURE = path.join(__dirname, "fixtures", "docker-plugin");
const USER = "pusher";
const PASSWORD = "plugin-check-password-0123";
const SDK = path.join(ROOT, "node_modules", "@pulumi", "docker");

const DOCKERFILE = `ARG BASE_IMAGE
FROM \${BASE_IMAGE}
ARG GREETING=hello
COPY served/ /srv/
RUN echo "$GREETING" > /srv/greeting.txt
WORKDIR /srv
CMD ["python3", "-m", "http.server", "8000", "--bind", "0.0.0.0"]
`;

interface SchemaSpec {
    version?: string;
    config?: { variables?: Record<string, unknown> };
    resources: Record<string, { inputProperties?: Record<string, unknown>; properties?: Record<string, unknown> }>;
    functions: Record<string, { inputs?: { properties?: Record<string, unknown> }; outputs?: { properties?: Record<string, unknown> } }>;
    types: Record<string, { properties?: Record<string, unknown>; enum?: unknown[] }>;
}

/** Property names of a TypeScript interface or class body in the SDK's declarations. */
function members(source: string, declaration: RegExp): string[] | undefined {
    const match = declaration.exec(source);
    if (!match) return undefined;
    const body = source.slice(match.index + match[0].length, source.indexOf("\n}", match.index));
    return [...body.matchAll(/^ {4}(?:readonly )?(\w+)\??: /gm)].map((m) => m[1]).sort();
}

/** What the SDK declares: each token with its input and output names, and each object type. */
function sdkContract(): { tokens: Map<string, { inputs: string[]; outputs: string[] }>; types: Map<string, string[]> } {
    const tokens = new Map<string, { inputs: string[]; outputs: string[] }>();
    for (const file of fs.readdirSync(SDK).filter((f) => f.endsWith(".js") && f !== "index.js" && f !== "utilities.js")) {
        const js = fs.readFileSync(path.join(SDK, file), "utf8");
        const dts = fs.readFileSync(path.join(SDK, file.replace(/\.js$/, ".d.ts")), "utf8");
        const resource = /__pulumiType = '([^']+)'/.exec(js);
        const invoke = /invoke\("([^"]+)"/.exec(js);
        if (resource && file === "provider.js") {
            tokens.set("provider", { inputs: members(dts, /export interface ProviderArgs \{/) ?? [], outputs: [] });
        } else if (resource) {
            const outputs = (members(dts, /export declare class \w+ extends pulumi\.CustomResource \{/) ?? []).filter((m) => m !== "get" && m !== "isInstance");
            tokens.set(resource[1], { inputs: members(dts, /export interface \w+Args \{/) ?? [], outputs });
        } else if (invoke) {
            tokens.set(invoke[1], { inputs: members(dts, /export interface \w+Args \{/) ?? [], outputs: members(dts, /export interface \w+Result \{/) ?? [] });
        }
    }
    const types = new Map<string, string[]>();
    const input = fs.readFileSync(path.join(SDK, "types", "input.d.ts"), "utf8");
    for (const m of input.matchAll(/^export interface (\w+) \{/gm)) {
        if (!m[1].endsWith("Args")) types.set(m[1], members(input, new RegExp(`^export interface ${m[1]} \\{`, "m")) ?? []);
    }
    return { tokens, types };
}

/** A file the container serves, once its server listens (a replaced container takes a moment to). */
function served(port: number, file: string): Promise<string> {
    return waitFor(`http://127.0.0.1:${port}/${file}`, 15_000, async () => {
        const res = await fetch(`http://127.0.0.1:${port}/${file}`);
        return res.ok ? res.text() : undefined;
    });
}

function keys(o: Record<string, unknown> | undefined): string[] {
    return Object.keys(o ?? {}).sort();
}

describe("real engine: onedigest's Docker provider plugin", function () {
    const registry = new SecureRegistry({ [USER]: PASSWORD });
    let scratch = "";
    let context = "";
    let stack: Stack;
    let env: NodeJS.ProcessEnv = {};
    let port = 0;

    before(async function () {
        assert.ok(process.env.DOCKER_HOST && process.env.ONEDIGEST_BASE_IMAGE, "no engine: run through scripts/test.sh, which starts dockerd and builds the base");
        assert.strictEqual(engineStore(), expectedStore(), "the engine runs the image store the suite started it with");
        await registry.start();
        scratch = tempDir("onedigest-plugin-");
        context = path.join(scratch, "context");
        fs.mkdirSync(path.join(context, "served"), { recursive: true });
        fs.writeFileSync(path.join(context, "Dockerfile"), DOCKERFILE);
        fs.writeFileSync(path.join(context, ".dockerignore"), "notes.txt\n");
        fs.writeFileSync(path.join(context, "served", "index.html"), "first\n");
        fs.writeFileSync(path.join(context, "notes.txt"), "not part of the build\n");
        const backend = path.join(scratch, "state");
        fs.mkdirSync(backend);
        env = cliEnv(backend);
        port = await freePort();
        stack = await Stack.create("plugin", FIXTURE, scratch, env, { "docker-plugin-check:registry": registry.host, "docker-plugin-check:context": context, "docker-plugin-check:port": port, "docker-plugin-check:username": USER, "docker-plugin-check:base": process.env.ONEDIGEST_BASE_IMAGE });
        await stack.setConfig("docker-plugin-check:password", PASSWORD, { secret: true });
    });

    after(async function () {
        if (stack) await stack.remove().catch((err: Error) => console.log(`      cleanup: ${err.message.split("\n")[0]}`));
        await registry.stop();
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
    });

    it("reports version 5.2.0 and serves every resource, function and type of @pulumi/docker 5.2.0 with the SDK's names", async () => {
        const plugins = JSON.parse(ok(await run("pulumi", ["plugin", "ls", "--json"], { cwd: scratch, env }), "plugin ls").stdout) as Array<{ name: string; kind: string; version: string }>;
        assert.deepStrictEqual(plugins.filter((p) => p.name === "docker").map((p) => `${p.kind} ${p.version}`), ["resource 5.2.0"]);
        const schema = JSON.parse(ok(await run("pulumi", ["package", "get-schema", "docker"], { cwd: scratch, env }), "package get-schema").stdout) as SchemaSpec;
        assert.strictEqual(schema.version, "5.2.0");

        const { tokens, types } = sdkContract();
        const problems: string[] = [];
        const compare = (what: string, sdk: string[], served: string[]) => {
            if (sdk.join() !== served.join()) problems.push(`${what}: SDK [${sdk.join(", ")}] vs plugin [${served.join(", ")}]`);
        };
        for (const [token, sdk] of tokens) {
            if (token === "provider") {
                compare("provider config", sdk.inputs, keys(schema.config?.variables));
            } else if (token.includes("/get")) {
                const fn = schema.functions[token];
                if (!fn) problems.push(`function ${token} is missing`);
                else {
                    compare(`${token} inputs`, sdk.inputs, keys(fn.inputs?.properties));
                    compare(`${token} outputs`, sdk.outputs, keys(fn.outputs?.properties));
                }
            } else {
                const res = schema.resources[token];
                if (!res) problems.push(`resource ${token} is missing`);
                else {
                    compare(`${token} inputs`, sdk.inputs, keys(res.inputProperties));
                    compare(`${token} outputs`, sdk.outputs, keys(res.properties));
                }
            }
        }
        // Object types by the SDK's interface name (the token's last part, capitalised).
        const capital = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
        const served = new Map(Object.entries(schema.types).map(([token, t]) => [capital(token.split(":").pop() ?? token), t]));
        for (const [name, props] of types) {
            const type = served.get(name);
            if (!type) problems.push(`type ${name} is missing`);
            else if (!type.enum) compare(`type ${name}`, props, keys(type.properties));
        }
        assert.ok(tokens.size >= 19, `found only ${tokens.size} SDK tokens`);
        assert.deepStrictEqual(problems, []);
    });

    let first: { imageId: string; pushedDigest: string; pulledId: string; repoDigest: string; containerId: string };

    it("up: builds, tags, pushes with the provider's login, pulls by digest and runs the same bits", async () => {
        ok(await stack.up(), "pulumi up");
        first = (await stack.outputs()) as typeof first;
        assert.match(first.imageId, /^sha256:[0-9a-f]{64}$/);
        // A local image's repoDigest is its image ID: the config digest, which `docker save` shows on
        // either store (the engine's own ID is that digest on the classic store only).
        assert.strictEqual(savedConfigDigest("plugin-check:built"), first.imageId);
        assert.strictEqual(docker("image", "inspect", "--format", "{{.Id}}", "plugin-check:built") === first.imageId, expectedStore() === "classic");
        const login = { username: USER, password: PASSWORD };
        const tag = `${first.imageId.replace(":", "-")}`;
        const pushed = await getManifest(registry.host, "plugin-check", tag, login);
        assert.strictEqual(pushed.digest, first.pushedDigest);
        assert.strictEqual(pushed.manifest.config.digest, first.imageId, "the registry holds the bits that were built");
        // The pull by digest is the same image: the engine's ID of it is the config digest (classic)
        // or the manifest digest pulled (containerd), and its export names the same config.
        assert.strictEqual(first.pulledId, expectedStore() === "classic" ? first.imageId : first.pushedDigest);
        assert.strictEqual(savedConfigDigest(first.pulledId), first.imageId);
        // The engine's first repo digest of those bits (an earlier run may have pushed them elsewhere;
        // the containerd store lists the local name's digest too, the same manifest).
        assert.match(first.repoDigest, new RegExp(`(^|/)plugin-check@${first.pushedDigest}$`));
        assert.strictEqual(docker("inspect", "--format", "{{.Image}}", "plugin-check"), first.pulledId);
        assert.strictEqual(await served(port, "index.html"), "first\n");
        assert.strictEqual(await served(port, "greeting.txt"), "hello\n");
    });

    it("a repeat preview and a refresh find no changes (diff and read agree with the engine)", async () => {
        ok(await stack.cli(["preview", "--expect-no-changes", "--diff"]), "preview --expect-no-changes");
        ok(await stack.cli(["refresh", "--yes", "--expect-no-changes", "--skip-preview"]), "refresh --expect-no-changes");
    });

    it("a file the .dockerignore excludes changes nothing; a file the build sends rebuilds and replaces", async () => {
        fs.appendFileSync(path.join(context, "notes.txt"), "more notes\n");
        ok(await stack.cli(["preview", "--expect-no-changes"]), "preview after a change to an ignored file");
        fs.writeFileSync(path.join(context, "served", "index.html"), "second\n");
        const steps = changedSteps(ok(await stack.cli(["preview", "--json"]), "preview --json").stdout);
        assert.ok(steps.includes("update docker:index/image:Image built"), steps.join("; "));
        assert.ok(steps.some((s) => /^(replace|create-replacement) docker:index\/container:Container served$/.test(s)), steps.join("; "));
    });

    it("up updates: a new build, a new push and a new container serving it; the build argument too", async () => {
        ok(await stack.up(), "pulumi up (context change)");
        const second = (await stack.outputs()) as typeof first;
        assert.notStrictEqual(second.imageId, first.imageId);
        assert.strictEqual(second.pulledId, expectedStore() === "classic" ? second.imageId : second.pushedDigest);
        assert.strictEqual(savedConfigDigest(docker("inspect", "--format", "{{.Image}}", "plugin-check")), second.imageId);
        assert.notStrictEqual(second.containerId, first.containerId);
        assert.strictEqual(await served(port, "index.html"), "second\n");

        await stack.setConfig("docker-plugin-check:greeting", "bonjour");
        const steps = changedSteps(ok(await stack.cli(["preview", "--json"]), "preview --json").stdout);
        assert.ok(steps.includes("update docker:index/image:Image built"), steps.join("; "));
        ok(await stack.up(), "pulumi up (build argument)");
        assert.strictEqual(await served(port, "greeting.txt"), "bonjour\n");
        ok(await stack.cli(["preview", "--expect-no-changes"]), "preview after the update");
    });

    it("bad input gets the resource's own error: an image name Docker refuses, a registry that refuses the login", async () => {
        await stack.setConfig("docker-plugin-check:imageName", "Plugin Check:built");
        const badName = await stack.cli(["preview"]);
        assert.notStrictEqual(badName.code, 0);
        assert.match(badName.stdout + badName.stderr, /imageName "Plugin Check:built" is not a valid image reference/);
        assert.doesNotMatch(badName.stdout + badName.stderr, /panic|goroutine/);
        ok(await stack.cli(["config", "rm", "docker-plugin-check:imageName"]), "config rm");

        await stack.setConfig("docker-plugin-check:password", "not-the-password", { secret: true });
        await stack.setConfig("docker-plugin-check:greeting", "hola");
        const refused = await stack.up();
        assert.notStrictEqual(refused.code, 0);
        assert.match(refused.stdout + refused.stderr, /unauthorized|authentication required|401/i);
        assert.doesNotMatch(refused.stdout + refused.stderr, /panic|goroutine/);
        // Put right, the next up converges and leaves nothing to do.
        await stack.setConfig("docker-plugin-check:password", PASSWORD, { secret: true });
        await stack.setConfig("docker-plugin-check:greeting", "bonjour");
        ok(await stack.up(), "pulumi up (login put right)");
        ok(await stack.cli(["preview", "--expect-no-changes"]), "preview after the login is put right");
    });

    it("destroy deletes the container and the pushed manifest (keepRemotely false) and leaves nothing in state", async () => {
        const last = (await stack.outputs()) as typeof first;
        ok(await stack.cli(["destroy", "--yes", "--skip-preview"]), "pulumi destroy");
        assert.strictEqual(docker("ps", "-a", "--filter", "name=^plugin-check$", "--format", "{{.Names}}"), "");
        await assert.rejects(getManifest(registry.host, "plugin-check", last.pushedDigest, { username: USER, password: PASSWORD }), /HTTP 404/);
        assert.deepStrictEqual(await stack.resourceTypes(), []);
    });
});
