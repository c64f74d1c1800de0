/**
 * The signature resource's operations (registry/signing.ts) with the real cosign and syft against a
 * real loopback registry that answers only to logins: a pushed image (the stand-in base, whose dpkg
 * status lists its OS packages) signed by its manifest digest with a key made here, and its SBOM,
 * taken by syft from the registry's copy, attested beside it. Plain `cosign verify` and
 * `cosign verify-attestation` accept them, and so does image.signedBy's check.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { diffSign, sign, type SignInputs } from "../../registry/signing";
import { loginDir, verifySignature } from "../../registry/signatures";
import { SecureRegistry } from "../registry";

const LOGIN = { username: "builder", password: "signing-test-token-0123" };

describe("signing: each pushed copy signed and attested, with the real cosign and syft", function () {
    const registry = new SecureRegistry({ [LOGIN.username]: LOGIN.password });
    let work = "";
    let dockerConfig = "";
    let inputs: SignInputs;
    let pub = "";

    before(async function () {
        assert.ok(process.env.DOCKER_HOST && process.env.NODE_EXTRA_CA_CERTS && process.env.ONEDIGEST_BASE_IMAGE, "no engine: run through scripts/test.sh");
        await registry.start();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-signing-"));
        dockerConfig = loginDir(registry.host, LOGIN);
        const repo = `${registry.host}/shop/app`;
        execFileSync("docker", ["tag", process.env.ONEDIGEST_BASE_IMAGE!, `${repo}:base`]);
        execFileSync("docker", ["--config", dockerConfig, "push", `${repo}:base`], { stdio: "ignore" });
        const digest = execFileSync("crane", ["digest", `${repo}:base`], { env: { ...process.env, DOCKER_CONFIG: dockerConfig }, encoding: "utf8" }).trim();
        execFileSync("cosign", ["generate-key-pair"], { cwd: work, env: { ...process.env, COSIGN_PASSWORD: "key-password" }, stdio: "ignore" });
        pub = fs.readFileSync(path.join(work, "cosign.pub"), "utf8");
        inputs = { ref: `${repo}@${digest}`, server: registry.host, username: LOGIN.username, password: LOGIN.password, signingKey: fs.readFileSync(path.join(work, "cosign.key"), "utf8"), signingKeyPassword: "key-password" };
    });

    after(async function () {
        await registry.stop();
        spawnSync("docker", ["rmi", `${registry.host}/shop/app:base`], { stdio: "ignore" });
        for (const dir of [work, dockerConfig]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("signs the digest and attests an SBOM of the image's own packages, which plain cosign verifies", async () => {
        const outs = await sign(inputs);
        assert.match(outs.sbomDigest, /^sha256:[0-9a-f]{64}$/);
        assert.ok(outs.sbomComponents > 10, `syft found ${outs.sbomComponents} packages in the base`);
        const env = { ...process.env, DOCKER_CONFIG: dockerConfig };
        const verify = spawnSync("cosign", ["verify", "--key", "cosign.pub", "--insecure-ignore-tlog", inputs.ref], { cwd: work, env, encoding: "utf8" });
        assert.strictEqual(verify.status, 0, verify.stderr);
        const attested = spawnSync("cosign", ["verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--type", "cyclonedx", inputs.ref], { cwd: work, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        assert.strictEqual(attested.status, 0, attested.stderr);
        const statement = JSON.parse(Buffer.from((JSON.parse(attested.stdout.trim().split("\n")[0]) as { payload: string }).payload, "base64").toString("utf8")) as { subject: Array<{ digest: { sha256: string } }>; predicate: { components?: Array<{ name: string }> } };
        assert.strictEqual(`sha256:${statement.subject[0].digest.sha256}`, inputs.ref.split("@")[1]);
        assert.ok((statement.predicate.components ?? []).some((c) => c.name === "python3"), "the SBOM lists the base's OS packages");
        await verifySignature(inputs.ref, { key: pub }, LOGIN, "onedigest:image.ref");
    });

    it("a new digest, registry or key is a new signature; a rotated registry password is not", () => {
        assert.deepStrictEqual(diffSign(inputs, { ...inputs, password: "rotated" }), { changes: false, replaces: [] });
        assert.deepStrictEqual(diffSign(inputs, { ...inputs, ref: inputs.ref.replace(/@.*/, `@sha256:${"0".repeat(64)}`), signingKey: "other" }), { changes: true, replaces: ["ref", "signingKey"] });
    });

    it("a registry that refuses the login fails the signing, naming the tool", async () => {
        await assert.rejects(sign({ ...inputs, password: "not-the-password" }), (err: Error) => /^syft scan failed: /.test(err.message) && !err.message.includes("not-the-password"));
    });
});
