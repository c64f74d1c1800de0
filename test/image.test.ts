/** Helpers of image.ts, without mocks (a registry read through a stand-in reader). */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { buildArgs, buildName, checkImageId, checkPulled, commitSha, localRef, lookUpImage, promotedRef, repositoryOf, tagFor } from "../image";

const ID = `sha256:${"ab".repeat(32)}`;

describe("image helpers", () => {
    it("takes the commit from CI variables first, then git, then 'unknown'", () => {
        assert.strictEqual(commitSha({ GITHUB_SHA: "c0ffee", CI_COMMIT_SHA: "other" }), "c0ffee");
        assert.strictEqual(commitSha({ LAST_COMMIT_SHA: "pinned", GITHUB_SHA: "c0ffee" }), "pinned");
        assert.match(commitSha({}), /^[0-9a-f]{40}$/);
        assert.strictEqual(commitSha({}, "/"), "unknown");
    });

    it("bakes version, commit and description, and the base only when overridden", () => {
        const app = { name: "a", description: "Shop API", port: 8080, env: {} };
        const args = buildArgs(app, { GITHUB_SHA: "c0ffee" });
        assert.deepStrictEqual(args, { APP_VERSION: "0.1.0", LAST_COMMIT_SHA: "c0ffee", APP_DESCRIPTION: "Shop API" });
        assert.strictEqual(buildArgs(app, { GITHUB_SHA: "x", ONEDIGEST_BASE_IMAGE: "mirror/python@sha256:1" }).BASE_IMAGE, "mirror/python@sha256:1");
    });

    it("tags a push by the image ID and refuses anything that is not one", () => {
        assert.strictEqual(tagFor(ID), `sha256-${"ab".repeat(32)}`);
        assert.throws(() => tagFor("latest"), /not an image ID/);
        assert.strictEqual(checkImageId(ID, "x"), ID);
        assert.throws(() => checkImageId("sha256:short", "the built image's ID"), /^Error: the built image's ID is not an image ID \(sha256:<64 hex>\): "sha256:short"$/);
    });

    it("names a build after its app, version and stack, as a Docker tag can hold them", () => {
        assert.strictEqual(buildName("onedigest", "0.1.0", "dev"), "onedigest:0.1.0-dev");
        // Semver build metadata and anything else a tag refuses become "-"; "_" and "." stay.
        assert.strictEqual(buildName("shop", "1.2.0+build.7", "prod_eu.2"), "shop:1.2.0-build.7-prod_eu.2");
        // Docker takes at most 128 characters after the colon.
        const long = buildName("shop", "1.0.0", "s".repeat(200));
        assert.strictEqual(long, `shop:1.0.0-${"s".repeat(122)}`);
        assert.strictEqual(long.split(":")[1].length, 128);
    });

    it("promotes the first registry image of another stack, never a local one", () => {
        const ref = `r.example.com/app@sha256:${"1".repeat(64)}`;
        assert.strictEqual(promotedRef("s", { local: { image: ID }, "gcp-cloudrun": { image: ref } }), ref);
        assert.throws(() => promotedRef("acme/onedigest/dev", { local: { image: ID } }), /promotion refused: acme\/onedigest\/dev exports no deployment with a registry image/);
    });
});

describe("image helpers: edges", () => {
    it("trims CI variables and skips blank ones", () => {
        assert.strictEqual(commitSha({ LAST_COMMIT_SHA: "   ", GITHUB_SHA: " c0ffee\n" }), "c0ffee");
    });

    it("knows each CI's commit variable", () => {
        for (const name of ["LAST_COMMIT_SHA", "GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT", "CIRCLE_SHA1", "GIT_COMMIT"]) assert.strictEqual(commitSha({ [name]: `sha-of-${name}` }, "/"), `sha-of-${name}`, name);
    });

    it("an image ID is exactly sha256:<64 hex>", () => {
        for (const bad of [`x${ID}`, `${ID}0`, ` ${ID}`, ID.toUpperCase()]) assert.throws(() => tagFor(bad), /not an image ID/, bad);
    });

    it("asks git for HEAD of the given directory", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-git-"));
        try {
            const git = (...args: string[]): string => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: dir }).toString().trim();
            git("init", "-q");
            git("commit", "-q", "--allow-empty", "-m", "one");
            assert.strictEqual(commitSha({}, dir), git("rev-parse", "HEAD"));
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("promotes only a repo@sha256 reference with a registry path, whole", () => {
        const ok = `r.example.com/app@sha256:${"1".repeat(64)}`;
        for (const deployments of [undefined, null, "x", 5]) assert.throws(() => promotedRef("s", deployments), /exports no deployment/);
        assert.strictEqual(promotedRef("s", { a: null, b: { image: 5 }, c: { image: ok } }), ok);
        for (const image of [`x${ok.slice(0, -1)}`, `${ok}0`, ` ${ok}`, `app@sha256:${"1".repeat(64)}`]) {
            assert.throws(() => promotedRef("s", { a: { image } }), /exports no deployment/, image);
        }
    });
});

describe("image: what the engine knows the bits by, on either image store", () => {
    const CONFIG = `sha256:${"c".repeat(64)}`;
    const MANIFEST = `sha256:${"d".repeat(64)}`;

    it("a local name's repository: the name without its tag", () => {
        assert.strictEqual(repositoryOf("onedigest:sha256-abc"), "onedigest");
        assert.strictEqual(repositoryOf("127.0.0.1:5000/team/app:v1"), "127.0.0.1:5000/team/app");
        assert.strictEqual(repositoryOf("127.0.0.1:5000/team/app"), "127.0.0.1:5000/team/app");
    });

    it("by ID where the engine's ID is the config digest (classic), else by repository and manifest digest (containerd)", () => {
        assert.strictEqual(localRef(`onedigest:${tagFor(CONFIG)}`, CONFIG, CONFIG), CONFIG);
        assert.strictEqual(localRef(`onedigest:${tagFor(CONFIG)}`, MANIFEST, CONFIG), `onedigest@${MANIFEST}`);
        assert.throws(() => localRef("onedigest:x", "abc", CONFIG), /the engine's ID of onedigest:x is not an image ID \(sha256:<64 hex>\): "abc"/);
    });

    it("a pull must leave the config digest (classic) or the reference's own digest (containerd) as the engine's ID", () => {
        const source = { ref: `r.example.com/app@${MANIFEST}`, imageId: CONFIG, login: undefined as never };
        assert.strictEqual(checkPulled(CONFIG, source, "pin"), CONFIG);
        assert.strictEqual(checkPulled(MANIFEST, source, "pin"), MANIFEST);
        assert.throws(() => checkPulled(ID, source, "pin"), new RegExp(`^Error: pin: r\\.example\\.com/app@${MANIFEST} pulled as ${ID}, which is neither its config digest ${CONFIG} nor its manifest digest$`));
    });
});

describe("image: a pinned ref is read from its registry before any resource", () => {
    const REF = `registry.example.com/app@sha256:${"e".repeat(64)}`;
    const registries = { configured: [{ address: "registry.example.com", username: "deploy", password: "token" }], herokuHost: "registry.heroku.com" };
    const config = { source: "ref", platform: "linux/amd64", ref: REF } as const;

    it("its config digest is what the registry's manifest of that digest names, read with the stack's login", async () => {
        const reads: unknown[] = [];
        const looked = await lookUpImage(config, registries, {}, async (ref, platform, login) => {
            reads.push([ref, platform, login]);
            return { manifestDigest: REF.split("@")[1], mediaType: "application/vnd.oci.image.manifest.v1+json", configDigest: ID };
        });
        assert.deepStrictEqual(reads, [[REF, "linux/amd64", { username: "deploy", password: "token" }]]);
        assert.deepStrictEqual([looked?.ref, looked?.imageId], [REF, ID]);
    });

    it("a registry that cannot answer stops the program naming the key", async () => {
        await assert.rejects(
            lookUpImage(config, registries, {}, async () => {
                throw new Error("HTTP 401 — the registry refused the login");
            }),
            (err: Error) => err.message === `onedigest:image.ref: cannot read ${REF} from its registry: HTTP 401 — the registry refused the login`,
        );
        await assert.rejects(
            lookUpImage(config, registries, {}, async () => ({ manifestDigest: "", mediaType: "", configDigest: "sha256:short" })),
            /the config digest of registry\.example\.com\/app@sha256:e+ is not an image ID/,
        );
    });

    it("with image.signedBy, the signature is checked with the same login after the read, and a refusal stops the program", async () => {
        const signer = { key: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n" };
        const read = async () => ({ manifestDigest: REF.split("@")[1], mediaType: "application/vnd.oci.image.manifest.v1+json", configDigest: ID });
        const checks: unknown[] = [];
        const looked = await lookUpImage({ ...config, signedBy: signer }, registries, {}, read, async (...args) => void checks.push(args));
        assert.deepStrictEqual(checks, [[REF, signer, { username: "deploy", password: "token" }, "onedigest:image.ref"]]);
        assert.strictEqual(looked?.imageId, ID);
        await assert.rejects(
            lookUpImage({ ...config, signedBy: signer }, registries, {}, read, async () => {
                throw new Error("onedigest:image.signedBy: refused it");
            }),
            /^Error: onedigest:image\.signedBy: refused it$/,
        );
        // Unset, nothing is checked.
        await lookUpImage(config, registries, {}, read, async () => assert.fail("verify"));
        assert.strictEqual(await lookUpImage({ source: "build", platform: "linux/amd64", signedBy: signer }, registries, {}, async () => assert.fail("read"), async () => assert.fail("verify")), undefined);
    });

    it("a build reads nothing", async () => {
        assert.strictEqual(await lookUpImage({ source: "build", platform: "linux/amd64" }, registries, {}, async () => assert.fail("read")), undefined);
    });
});
