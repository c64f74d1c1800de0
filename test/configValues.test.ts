/**
 * The value rules of config.ts, edge by edge: what each pattern accepts and refuses at both of its
 * ends, every reserved environment name, every secret-like spelling, and the shell words of fixes.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { findProjectFile, loadConfig, projectDefaults, runtimeSources } from "../config";
import { setCommand, shellWord } from "../validate";
import { configError, sources } from "./helpers";

const DIGEST = "a".repeat(64);
const ROOT_DIR = path.resolve(__dirname, "..");

/** Whether loadConfig accepts the value at `field` (other problems, e.g. a missing login, aside). */
function accepted(values: Record<string, unknown>, field: string): boolean {
    try {
        loadConfig(sources(values));
        return true;
    } catch (err) {
        return !(err as Error).message.includes(`onedigest:${field}: got `);
    }
}

describe("config values: each pattern is anchored at both ends", () => {
    it("app.name", () => {
        for (const name of ["a", "ab", "my-app", "a".repeat(32)]) assert.ok(accepted({ app: { name } }, "app.name"), name);
        for (const name of ["1app", "-app", "app-", "a".repeat(33), "My", "app!", "app\n", " app"]) assert.ok(!accepted({ app: { name } }, "app.name"), JSON.stringify(name));
    });

    it("image.ref", () => {
        // Docker's path components allow runs of separators (my__app, a--b), not only single ones.
        const ok = [`registry.example.com/app@sha256:${DIGEST}`, `localhost:5000/a/b@sha256:${DIGEST}`, `app@sha256:${DIGEST}`, `r.example.com/team/my__app@sha256:${DIGEST}`, `r.example.com/a--b@sha256:${DIGEST}`];
        for (const ref of ok) assert.ok(accepted({ image: { ref } }, "image.ref"), ref);
        const bad = [
            `registry.example.com/app@sha256:${DIGEST}x`, // after the digest
            `/registry.example.com/app@sha256:${DIGEST}`, // before the name
            `Registry.example.com/app@sha256:${DIGEST}`,
            `registry.example.com/app:v1`,
            `registry.example.com/app@sha256:${DIGEST.slice(1)}`,
        ];
        for (const ref of bad) assert.ok(!accepted({ image: { ref } }, "image.ref"), ref);
    });

    it("image.promoteFrom", () => {
        for (const promoteFrom of ["dev", "org/project/dev", "my_org/onedigest/dev.1"]) assert.ok(accepted({ image: { promoteFrom } }, "image.promoteFrom"), promoteFrom);
        for (const promoteFrom of ["org/dev", "/dev", "dev/", "dev stack", "org/project/dev/x", "dev\n"]) assert.ok(!accepted({ image: { promoteFrom } }, "image.promoteFrom"), JSON.stringify(promoteFrom));
    });

    it("app.env names", () => {
        for (const name of ["A", "_A", "LOG_LEVEL", "A1"]) assert.ok(accepted({ app: { env: { [name]: "v" } } }, `app.env.${name}`), name);
        for (const name of ["1A", "a", "A-B", "A B", "LOG_LEVEL\n", " A", "Ab"]) assert.ok(!accepted({ app: { env: { [name]: "v" } } }, `app.env.${name}`), JSON.stringify(name));
    });
});

describe("config values: names the program sets itself, and names that look like secrets", () => {
    const reserved = ["PORT", "SECRET_KEY", "APP_ENV", "APP_VERSION", "LAST_COMMIT_SHA", "APP_DESCRIPTION", "PROXY_FIX_COUNT", "PROXY_FIX_PROTO_COUNT", "IMAGE_ID", "CANONICAL_HOST"];

    for (const name of reserved) {
        it(`refuses app.env.${name}, naming every reserved name`, () => {
            assert.strictEqual(
                configError({ app: { env: { [name]: "x" } } }),
                `onedigest:app.env.${name}: got "${name}"; expected a name other than ${reserved.join(", ")} (set by onedigest). Fix: pulumi config set --path onedigest:app.env.${name} value`,
            );
        });
    }

    const secretLike = ["MY_SECRET", "DB_PASSWORD", "PASSWD", "GITHUB_TOKEN", "CREDENTIALS", "PRIVATE_PEM", "APIKEY", "API_KEY", "ACCESSKEY", "ACCESS_KEY"];
    for (const name of secretLike) {
        it(`refuses app.env.${name} as secret-like`, () => {
            assert.strictEqual(
                configError({ app: { env: { [name]: "x" } } }),
                `onedigest:app.env.${name}: got "${name}"; expected no secret-like names in plain environment (use onedigest:secretKey, which is stored as a secret). Fix: pulumi config rm --path onedigest:app.env.${name}`,
            );
        });
    }

    it("keeps names that only resemble them", () => {
        for (const name of ["KEYBOARD", "ACCESS_LOG", "API_URL", "PORTAL"]) assert.ok(accepted({ app: { env: { [name]: "x" } } }, `app.env.${name}`), name);
    });
});

describe("config values: fix commands are shell-safe", () => {
    it("quotes a word only when it needs it, and escapes single quotes", () => {
        assert.strictEqual(shellWord("onedigest:app.name"), "onedigest:app.name");
        assert.strictEqual(shellWord("a b"), "'a b'");
        assert.strictEqual(shellWord("it's"), `'it'\\''s'`);
        assert.strictEqual(shellWord(""), "''");
        assert.strictEqual(shellWord("x;rm -rf /"), "'x;rm -rf /'");
    });

    it("uses --path only for a key with a path, and --secret when asked", () => {
        assert.strictEqual(setCommand("aws:region", "eu-west-1"), "pulumi config set aws:region eu-west-1");
        assert.strictEqual(setCommand("onedigest:app.port", 8080), "pulumi config set --path onedigest:app.port 8080");
        assert.strictEqual(setCommand("onedigest:secretKey", "s", { secret: true }), "pulumi config set --secret onedigest:secretKey s");
        assert.strictEqual(setCommand("onedigest:app.env", { A: "b c" }), "pulumi config rm --path onedigest:app.env && pulumi config set --path onedigest:app.env.A 'b c'");
        assert.strictEqual(setCommand("onedigest:targets", ["local", "heroku"]), "pulumi config rm onedigest:targets && pulumi config set --path 'onedigest:targets[0]' local && pulumi config set --path 'onedigest:targets[1]' heroku");
    });
});

describe("config values: project defaults and the rules between keys", () => {
    it("reads defaults from a Pulumi.yaml's config block, with or without the project prefix", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-project-"));
        try {
            const file = path.join(dir, "Pulumi.yaml");
            fs.writeFileSync(
                file,
                [
                    "name: onedigest",
                    "config:",
                    "  onedigest:targets: { default: [heroku] }",
                    "  app: { type: object, default: { name: shop } }",
                    "  aws:region: { default: eu-west-1 }",
                    "  noDefault: { type: string }",
                    "  shorthand: plain",
                    "  empty:",
                    "",
                ].join("\n"),
            );
            assert.deepStrictEqual(projectDefaults(file), { targets: ["heroku"], app: { name: "shop" }, "aws:region": "eu-west-1" });
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("without project defaults an app has an empty description", () => {
        assert.strictEqual(loadConfig(sources({ targets: ["local"], app: { name: "a", port: 8080 }, alerts: { errorRatePercent: 5, latencyP99Ms: 1000, unhealthyMinutes: 3 }, local: { port: 8080, memoryMb: 512 } }), {}).app.description, "");
    });

    it("the fix for a duplicate target keeps each kind once and drops what is not a kind name", () => {
        assert.match(configError({ targets: ["local", 5, "local"] }), /onedigest:targets\[2\]: got "local"; expected each target kind at most once\. Fix: pulumi config rm onedigest:targets && pulumi config set --path 'onedigest:targets\[0\]' local$/m);
    });

    it("a stack promoted by its short name is looked up in this organization and project", () => {
        assert.deepStrictEqual(loadConfig(sources({ image: { promoteFrom: "dev" } })).image, { source: "promote", platform: "linux/amd64", promoteFrom: "organization/onedigest/dev" });
        const named = loadConfig(sources({ image: { promoteFrom: "dev" } }, { organization: "acme", project: "shop" }));
        assert.deepStrictEqual(named.image, { source: "promote", platform: "linux/amd64", promoteFrom: "acme/shop/dev" });
    });

    it("a pinned image's missing login is reported with every other problem, before any resource", () => {
        const message = configError({ app: { port: 1 }, image: { ref: `private.example.com/app@sha256:${DIGEST}` } });
        assert.match(message, /^onedigest:app\.port: got 1;/m);
        assert.match(message, /^onedigest:registryAuth: .*credentials for private\.example\.com, which onedigest:image\.ref pulls from/m);
    });

    it("a bad environment name and a bad promoteFrom name what they must be, with a fix", () => {
        assert.strictEqual(
            configError({ app: { env: { "bad-name": "v" } } }),
            "onedigest:app.env.bad-name: got \"bad-name\"; expected an environment variable name matching [A-Z_][A-Z0-9_]*. Fix: pulumi config set --path onedigest:app.env.bad-name value",
        );
        assert.strictEqual(
            configError({ image: { promoteFrom: "a/b" } }),
            "onedigest:image.promoteFrom: got \"a/b\"; expected a stack name: dev (this organization and project) or org/project/stack. Fix: pulumi config set --path onedigest:image.promoteFrom dev",
        );
    });

    it("an empty target list still needs a secretKey", () => {
        assert.match(configError({ targets: [] }, { secretKey: undefined }), /^onedigest:secretKey: /m);
    });

    it("refuses a platform a chosen target cannot run, naming the target", () => {
        assert.match(
            configError({ targets: ["local", "gcp-cloudrun"], "gcp:project": "p", image: { platform: "linux/arm64" } }, { providerConfig: (ns, key) => (ns === "gcp" && key === "project" ? "p" : undefined) }),
            /^onedigest:image\.platform: got "linux\/arm64"; expected a platform target gcp-cloudrun runs: linux\/amd64\. Fix: pulumi config set --path onedigest:image\.platform linux\/amd64$/m,
        );
    });
});

/** The SDK's runtime as a program on stack acme/onedigest/dev sees it (no resources involved). */
function runningStack(): Promise<void> {
    return pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "onedigest", "dev", false, "acme");
}

describe("config values: what the program reads from the running stack", () => {
    it("reads secret keys only as secrets, never into the plain values", async () => {
        await runningStack();
        pulumi.runtime.setAllConfig({ "onedigest:secretKey": "s3cret", "onedigest:herokuApiKey": "hk", "onedigest:app": '{"name":"shop"}', "aws:region": "eu-west-1" }, ["onedigest:secretKey", "onedigest:herokuApiKey"]);
        const got = runtimeSources();
        assert.ok(!("secretKey" in got.values) && !("herokuApiKey" in got.values), `plain values: ${Object.keys(got.values).join(", ")}`);
        assert.deepStrictEqual(got.values.app, { name: "shop" });
        assert.deepStrictEqual([...(got.setKeys ?? [])].sort(), ["app", "herokuApiKey", "secretKey"]);
        assert.strictEqual(got.organization, "acme");
        assert.strictEqual(got.stack, "dev");
        assert.strictEqual(got.providerConfig("aws", "region"), "eu-west-1");
        assert.ok(pulumi.Output.isInstance(got.secretKey) && pulumi.Output.isInstance(got.secret("herokuApiKey")));
        assert.strictEqual(got.secret("registryAuth"), undefined);
        assert.deepStrictEqual(got.secretKeys, ["onedigest:secretKey", "onedigest:herokuApiKey"]);
    });

    it("takes a value that is not JSON as the string it is", async () => {
        await runningStack();
        pulumi.runtime.setAllConfig({ "onedigest:targets": "local", "onedigest:app": "{not json" });
        assert.deepStrictEqual([runtimeSources().values.targets, runtimeSources().values.app], ["local", "{not json"]);
        assert.match(configError({ app: "{not json" }), /^onedigest:app: got "\{not json"; expected an object\./m);
    });

    it("reads the secret key list the engine passes, from the SDK or the environment; unreadable is none", async () => {
        await runningStack();
        pulumi.runtime.setAllConfig({ "onedigest:registryAuth": "[]" }, ["onedigest:registryAuth"]);
        const store = (require("@pulumi/pulumi/runtime/state") as { getStore(): { config: Record<string, string | undefined> } }).getStore();
        const saved = process.env.PULUMI_CONFIG_SECRET_KEYS;
        try {
            assert.deepStrictEqual(runtimeSources().secretKeys, ["onedigest:registryAuth"]);
            store.config.PULUMI_CONFIG_SECRET_KEYS = "not json";
            assert.deepStrictEqual(runtimeSources().secretKeys, []);
            delete store.config.PULUMI_CONFIG_SECRET_KEYS;
            process.env.PULUMI_CONFIG_SECRET_KEYS = '["onedigest:herokuApiKey"]';
            assert.deepStrictEqual(runtimeSources().secretKeys, ["onedigest:herokuApiKey"]);
            delete process.env.PULUMI_CONFIG_SECRET_KEYS;
            assert.deepStrictEqual(runtimeSources().secretKeys, []);
        } finally {
            if (saved === undefined) delete process.env.PULUMI_CONFIG_SECRET_KEYS;
            else process.env.PULUMI_CONFIG_SECRET_KEYS = saved;
        }
    });

    it("looks for Pulumi.yaml next to the program or one level up, and says where it looked", () => {
        assert.strictEqual(findProjectFile(path.join(ROOT_DIR, "providers")), path.join(ROOT_DIR, "Pulumi.yaml"));
        assert.throws(() => findProjectFile("/"), /^Error: Pulumi\.yaml not found next to \/ or its parent$/);
    });
});
