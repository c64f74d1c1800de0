/** Pure helpers of image.ts, without mocks. */
import * as assert from "assert";

import { buildArgs, checkImageId, commitSha, promotedRef, tagFor } from "../image";

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
