/**
 * image.signingKey and image.signingKeyFile, each way they can be wrong: every refusal names the key
 * that is set, never shows a key, and comes before any resource; the key's password is cosign's own
 * COSIGN_PASSWORD. (What a build signs with a good key is test/signing.test.ts.)
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { reveal, runProgram, runProgramError } from "./mocks";

const SIGNATURE = "pulumi-nodejs:dynamic/registry:Signature";
const GCP = { "gcp:project": "onedigest-test", "gcp:region": "europe-west1" };
const KEY = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
const SECRET = { secretKeys: ["onedigest:image"] };

describe("signing key: each way it can be wrong", () => {
    let dir = "";
    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-signing-key-"));
        fs.writeFileSync(path.join(dir, "cosign.key"), KEY, { mode: 0o600 });
        fs.writeFileSync(path.join(dir, "notes.txt"), "not a key\n", { mode: 0o600 });
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("a key file on a stack that pulls is refused by that key's name", async () => {
        const { message, resources } = await runProgramError({ targets: ["gcp-cloudrun"], ...GCP, image: { promoteFrom: "dev", signingKeyFile: path.join(dir, "cosign.key") } });
        assert.strictEqual(message, "onedigest:image.signingKeyFile: got a value (not shown); expected no signing key on a stack that pulls its image: a stack signs only what it builds. Fix: pulumi config rm --path onedigest:image.signingKeyFile");
        assert.deepStrictEqual(resources, []);
    });

    it("both a key and a key file: the file is the one to remove", async () => {
        const file = path.join(dir, "cosign.key");
        const { message, resources } = await runProgramError({ targets: ["gcp-cloudrun"], ...GCP, image: { signingKey: KEY, signingKeyFile: file } }, SECRET);
        assert.strictEqual(message, `onedigest:image.signingKeyFile: got ${JSON.stringify(file)}; expected not both onedigest:image.signingKey and onedigest:image.signingKeyFile. Fix: pulumi config rm --path onedigest:image.signingKeyFile`);
        assert.ok(!message.includes("eyJrZGYiOnt9fQ"));
        assert.deepStrictEqual(resources, []);
    });

    it("an empty or non-text key file setting asks for a path", async () => {
        for (const bad of ["", 42]) {
            const { message, resources } = await runProgramError({ targets: ["gcp-cloudrun"], ...GCP, image: { signingKeyFile: bad } });
            assert.strictEqual(message, `onedigest:image.signingKeyFile: got ${JSON.stringify(bad)}; expected a path to a cosign private key file. Fix: pulumi config set --path onedigest:image.signingKeyFile /run/secrets/cosign.key`, String(bad));
            assert.deepStrictEqual(resources, []);
        }
    });

    it("a key file that holds no private key is refused without showing what it holds", async () => {
        const { message, resources } = await runProgramError({ targets: ["gcp-cloudrun"], ...GCP, image: { signingKeyFile: path.join(dir, "notes.txt") } });
        assert.strictEqual(message, "onedigest:image.signingKeyFile: got a value that is not one (not shown); expected a cosign private key (PEM: -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----, as cosign generate-key-pair writes cosign.key). Fix: pulumi config set --path onedigest:image.signingKeyFile /run/secrets/cosign.key");
        assert.ok(!message.includes("not a key"));
        assert.deepStrictEqual(resources, []);
    });

    it("a secret key that is not text is not a key", async () => {
        const { message } = await runProgramError({ targets: ["gcp-cloudrun"], ...GCP, image: { signingKey: { pem: KEY } } }, SECRET);
        assert.match(message, /^onedigest:image\.signingKey: got a value that is not one \(not shown\); expected a cosign private key .*Fix: pulumi config set --secret --path onedigest:image\.signingKey -- "\$\(cat cosign\.key\)"$/);
    });

    it("the key's password is COSIGN_PASSWORD, as cosign reads it; none is empty", async () => {
        const saved = process.env.COSIGN_PASSWORD;
        try {
            process.env.COSIGN_PASSWORD = "pass-phrase-1";
            const withPassword = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, image: { signingKeyFile: path.join(dir, "cosign.key") } });
            assert.strictEqual(reveal(withPassword.ofType(SIGNATURE)[0].inputs.signingKeyPassword), "pass-phrase-1");
            delete process.env.COSIGN_PASSWORD;
            const without = await runProgram({ targets: ["gcp-cloudrun"], ...GCP, image: { signingKeyFile: path.join(dir, "cosign.key") } });
            assert.strictEqual(reveal(without.ofType(SIGNATURE)[0].inputs.signingKeyPassword), "");
        } finally {
            if (saved === undefined) delete process.env.COSIGN_PASSWORD;
            else process.env.COSIGN_PASSWORD = saved;
        }
    });
});
