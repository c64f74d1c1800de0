/**
 * The value rules of config.ts, edge by edge: what each pattern accepts and refuses at both of its
 * ends, every reserved environment name, every secret-like spelling, and the shell words of fixes.
 */
import * as assert from "assert";

import { loadConfig } from "../config";
import { setCommand, shellWord } from "../validate";
import { configError, sources } from "./helpers";

const DIGEST = "a".repeat(64);

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
        const ok = [`registry.example.com/app@sha256:${DIGEST}`, `localhost:5000/a/b@sha256:${DIGEST}`, `app@sha256:${DIGEST}`];
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
