/** Helpers of image.ts, without mocks (the engine's image store asked through a stand-in CLI). */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { buildArgs, checkImageId, commitSha, engineImageStore, imageStoreOf, promotedRef, requireClassicImageStore, tagFor } from "../image";

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

describe("image store: only the classic store has config-digest image IDs", () => {
    it("reads the store from docker info's DriverStatus", () => {
        assert.strictEqual(imageStoreOf('[["driver-type","io.containerd.snapshotter.v1"]]'), "containerd");
        assert.strictEqual(imageStoreOf('[["Backing Filesystem","extfs"],["Supports d_type","true"]]'), "classic");
        assert.strictEqual(imageStoreOf('[["Backing Filesystem","io.containerd.snapshotter.v1"]]'), "classic");
        assert.strictEqual(imageStoreOf('[["driver-type","overlay"]]'), "classic");
        assert.strictEqual(imageStoreOf("null"), "classic");
        assert.strictEqual(imageStoreOf(""), "classic");
    });

    describe("asks the engine once per process, with the CLI on the given PATH", () => {
        const cache = globalThis as unknown as Record<symbol, unknown>;
        const key = Symbol.for("onedigest.imageStore");
        let saved: { had: boolean; value: unknown };
        let bin: string;
        /** A `docker` that answers exactly `docker info --format '{{json .DriverStatus}}'`. */
        const fakeDocker = (answer: string): NodeJS.ProcessEnv => {
            fs.writeFileSync(
                path.join(bin, "docker"),
                `#!/bin/sh\n[ "$*" = 'info --format {{json .DriverStatus}}' ] || exit 9\necho '${answer}'\n`,
                { mode: 0o755 },
            );
            return { PATH: `${bin}:/usr/bin:/bin` };
        };
        beforeEach(() => {
            saved = { had: key in cache, value: cache[key] };
            delete cache[key];
            bin = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-docker-"));
        });
        afterEach(() => {
            delete cache[key];
            if (saved.had) cache[key] = saved.value;
            fs.rmSync(bin, { recursive: true, force: true });
        });

        it("containerd, then the same answer from the cache", () => {
            assert.strictEqual(engineImageStore(fakeDocker('[["driver-type","io.containerd.snapshotter.v1"]]')), "containerd");
            assert.strictEqual(engineImageStore(fakeDocker("[]")), "containerd");
        });

        it("classic", () => {
            assert.strictEqual(engineImageStore(fakeDocker('[["Backing Filesystem","extfs"]]')), "classic");
        });

        it("undefined when the CLI fails or is missing, and that is cached too", () => {
            const env = fakeDocker("[]");
            fs.writeFileSync(path.join(bin, "docker"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
            assert.strictEqual(engineImageStore(env), undefined);
            assert.strictEqual(engineImageStore(fakeDocker('[["driver-type","io.containerd.snapshotter.v1"]]')), undefined);
            delete cache[key];
            assert.strictEqual(engineImageStore({ PATH: bin.replace(/$/, "-none") }), undefined);
        });
    });

    it("stops on the containerd store with what to change, and says nothing otherwise", () => {
        requireClassicImageStore("classic");
        requireClassicImageStore(undefined);
        assert.throws(
            () => requireClassicImageStore("containerd"),
            (err: Error) =>
                err.message.startsWith("Docker's containerd image store is enabled on this engine") &&
                err.message.includes("which that store does not report as the image ID, and its pushes use OCI manifests that Heroku refuses. Switch") &&
                err.message.includes('untick "Use containerd for pulling and storing images"') &&
                err.message.includes('set {"features": {"containerd-snapshotter": false}} in /etc/docker/daemon.json and restart dockerd (images are kept'),
        );
    });
});
