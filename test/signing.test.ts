/**
 * A build stack with image.signingKey: each registry copy gets a registry:Signature of its pushed
 * digest (after the push, with that registry's login and the key as secrets), except Heroku's, whose
 * registry cannot hold one; the key is never plain config and never signs bits the stack pulled.
 * The signing itself, with the real cosign and syft, is test/pipeline/signing.test.ts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { PUSH, isSecret, reveal, runProgram, runProgramError, type ProgramRun } from "./mocks";

const SIGNATURE = "pulumi-nodejs:dynamic/registry:Signature";
const GCP = { "gcp:project": "onedigest-test", "gcp:region": "europe-west1" };
const KEY = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";

describe("signing: what a build stack pushes is signed", () => {
    let run: ProgramRun;
    before(async () => {
        run = await runProgram({ targets: ["gcp-cloudrun", "heroku"], ...GCP, herokuApiKey: "hk-secret-123", image: { signingKey: KEY } }, { secretKeys: ["onedigest:image"] });
    });

    it("one signature per copy a registry can hold, of the digest pushed, after the push", () => {
        const pushes = run.ofType(PUSH);
        assert.strictEqual(pushes.length, 2);
        const signatures = run.ofType(SIGNATURE);
        assert.strictEqual(signatures.length, 1, "Heroku's registry takes no signature");
        const [signature] = signatures;
        const cloudrunPush = pushes.find((p) => String(p.inputs.repository).includes("docker.pkg.dev"))!;
        assert.match(String(signature.inputs.ref), /^europe-west1-docker\.pkg\.dev\/onedigest-test\/onedigest-test\/onedigest@sha256:[0-9a-f]{64}$/);
        assert.strictEqual(signature.inputs.ref, `${String(cloudrunPush.inputs.repository)}@${String(run.mocks.state.get(cloudrunPush.name)?.digest)}`);
        assert.ok((run.mocks.dependencies.get(signature.name) ?? []).includes(cloudrunPush.name), "signed after the push");
        assert.deepStrictEqual([signature.inputs.server, signature.inputs.username, reveal(signature.inputs.password)], ["europe-west1-docker.pkg.dev", "oauth2accesstoken", "ya29.short-lived-token"]);
    });

    it("the key, its password and the registry's password are secret inputs", () => {
        const [signature] = run.ofType(SIGNATURE);
        for (const field of ["signingKey", "signingKeyPassword", "password"]) assert.ok(isSecret(signature.inputs[field]), field);
        assert.strictEqual(reveal(signature.inputs.signingKey), KEY);
    });

    it("no key, no signature", async () => {
        const plain = await runProgram({ targets: ["gcp-cloudrun"], ...GCP });
        assert.strictEqual(plain.ofType(SIGNATURE).length, 0);
    });

    it("a key file is read; an unreadable one is named", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-key-"));
        try {
            fs.writeFileSync(path.join(dir, "cosign.key"), KEY, { mode: 0o600 });
            const fromFile = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, image: { signingKeyFile: path.join(dir, "cosign.key") } });
            assert.strictEqual(reveal(fromFile.ofType(SIGNATURE)[0].inputs.signingKey), KEY);
            const { message, resources } = await runProgramError({ targets: ["gcp-cloudrun"], ...GCP, image: { signingKeyFile: path.join(dir, "nope.key") } });
            assert.strictEqual(message, `onedigest:image.signingKeyFile: got ${JSON.stringify(path.join(dir, "nope.key"))}; expected a readable file holding a cosign private key (ENOENT). Fix: pulumi config set --path onedigest:image.signingKeyFile /run/secrets/cosign.key`);
            assert.deepStrictEqual(resources, []);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses a key in plain config without showing it, a key that is not one, and a key on a stack that pulls", async () => {
        const plain = await runProgramError({ targets: ["gcp-cloudrun"], ...GCP, image: { signingKey: KEY } });
        assert.strictEqual(plain.message, `onedigest:image.signingKey: got a value (not shown: it is a private key); expected a secret value: a private key is never stored in plain config. Fix: pulumi config set --secret --path onedigest:image.signingKey -- "$(cat cosign.key)"`);
        assert.ok(!plain.message.includes("eyJrZGYiOnt9fQ"));
        assert.deepStrictEqual(plain.resources, []);
        const notKey = await runProgramError({ targets: ["gcp-cloudrun"], ...GCP, image: { signingKey: "hunter2" } }, { secretKeys: ["onedigest:image"] });
        assert.match(notKey.message, /^onedigest:image\.signingKey: got a value that is not one \(not shown\); expected a cosign private key/);
        const pulls = await runProgramError({ targets: ["gcp-cloudrun"], ...GCP, image: { promoteFrom: "dev", signingKey: KEY } }, { secretKeys: ["onedigest:image"] });
        assert.strictEqual(pulls.message, "onedigest:image.signingKey: got a value (not shown); expected no signing key on a stack that pulls its image: a stack signs only what it builds. Fix: pulumi config rm --path onedigest:image.signingKey");
    });
});
