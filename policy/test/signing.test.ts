import * as assert from "assert";

import { checkSignedImages, signedBy } from "../rules/signing";
import { TYPES } from "../rules/types";
import { REF, res, stack, unknown } from "./helpers";

const KEY = "-----BEGIN PUBLIC KEY-----\nMFkw...\n-----END PUBLIC KEY-----";
const signed = (signer: unknown) => stack("prod", { "onedigest:image": JSON.stringify({ promoteFrom: "dev", signedBy: signer }) });

describe("signed-images-only", () => {
    it("reads onedigest:image.signedBy from the stack's config", () => {
        assert.deepStrictEqual(signedBy(signed({ key: KEY })), { key: KEY });
        assert.strictEqual(signedBy(stack("prod", { "onedigest:image": '{"promoteFrom":"dev"}' })), undefined);
        assert.strictEqual(signedBy(stack("prod")), undefined);
    });

    it("holds nothing on stacks without signedBy", () => {
        assert.deepStrictEqual(checkSignedImages([res(TYPES.dockerImage, "image", {}), res(TYPES.remoteImage, "pulled", { name: "app:latest" })], stack("prod")), []);
    });

    it("passes a promotion or pin by digest with a key or an identity and issuer", () => {
        for (const signer of [{ key: KEY }, { identity: "ci@example.com", issuer: "https://token.actions.githubusercontent.com" }]) {
            assert.deepStrictEqual(checkSignedImages([res(TYPES.remoteImage, "promoted", { name: REF }), res(TYPES.remoteImage, "later", { name: unknown })], signed(signer)), []);
        }
    });

    it("refuses a build, a tag pulled, and a malformed signedBy, each with its fix", () => {
        const vs = checkSignedImages([res(TYPES.dockerImage, "image", {}), res(TYPES.remoteImage, "pinned", { name: "registry.example.com/app:v1" })], signed({ key: "" }));
        assert.deepStrictEqual(vs.map((v) => v.message), [
            `onedigest:image.signedBy is {"key":""}; expected { key: "<public key>" } or { identity: "<signer identity>", issuer: "<OIDC issuer>" }. Fix: pulumi config set --path onedigest:image.signedBy.key -- "$(cat cosign.pub)".`,
            `docker:index/image:Image "image": the stack builds its image, but onedigest:image.signedBy only admits signed bits and a fresh build is signed by no one. Fix: deploy a signed image by digest (onedigest:image.ref or image.promoteFrom), or remove signedBy.`,
            `docker:index/remoteImage:RemoteImage "pinned": name is "registry.example.com/app:v1", not pinned by digest, so no signature check can hold for what runs. Fix: pull repo@sha256:<64 hex> (onedigest:image.ref).`,
        ]);
        assert.strictEqual(checkSignedImages([], signed({ identity: "x" })).length, 1);
        assert.strictEqual(checkSignedImages([], signed({ key: KEY, identity: "x", issuer: "y" })).length, 1);
    });
});
