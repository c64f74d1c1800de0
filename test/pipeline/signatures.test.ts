/**
 * image.signedBy's check (registry/signatures.ts) with the real cosign against a real loopback
 * registry that answers only to logins: signatures made here with `cosign generate-key-pair` and
 * `cosign sign --key … --tlog-upload=false`. A signed digest passes; an unsigned one, one signed by
 * another key, one carrying a signature copied from another digest, and a login the registry refuses
 * are each refused with their own reason.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { findCosign, loginDir, verifySignature } from "../../registry/signatures";
import { SecureRegistry } from "../registry";

const LOGIN = { username: "puller", password: "sign-test-token-0123" };

describe("signatures: cosign verify against a real registry", function () {
    const registry = new SecureRegistry({ [LOGIN.username]: LOGIN.password });
    let work = "";
    let dockerConfig = "";
    let repo = "";
    const digests: Record<string, string> = {};
    const keys: Record<string, string> = {};

    const tool = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
        execFileSync(cmd, args, { cwd: work, env: { ...process.env, DOCKER_CONFIG: dockerConfig, COSIGN_PASSWORD: "", ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    const ref = (name: string) => `${repo}@${digests[name]}`;
    const refusal = async (name: string, key: string, login = LOGIN): Promise<string> => {
        try {
            await verifySignature(ref(name), { key: keys[key] }, login, "onedigest:image.ref");
        } catch (err) {
            assert.strictEqual((err as Error).name, "SignatureRefused");
            return (err as Error).message;
        }
        return assert.fail(`${name} verified with ${key}`);
    };

    before(async function () {
        assert.ok(process.env.NODE_EXTRA_CA_CERTS, "no registry certificate: run through scripts/test.sh (scripts/docker-env.sh makes it)");
        assert.ok(findCosign(process.env.PATH), "no cosign on PATH: scripts/test.sh installs it from ../shared/tools/supply-chain");
        await registry.start();
        work = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-signatures-"));
        dockerConfig = loginDir(registry.host, LOGIN);
        repo = `${registry.host}/shop/app`;
        // Two tiny images, each one layer on the empty image, pushed with the login.
        for (const name of ["signed", "unsigned"]) {
            fs.mkdirSync(path.join(work, name));
            fs.writeFileSync(path.join(work, name, "content"), `${name}\n`);
            execFileSync("tar", ["-cf", `${name}.tar`, "-C", name, "content"], { cwd: work });
            tool("crane", ["append", "-f", `${name}.tar`, "-t", `${repo}:${name}`]);
            digests[name] = tool("crane", ["digest", `${repo}:${name}`]);
        }
        for (const who of ["ours", "theirs"]) {
            fs.mkdirSync(path.join(work, who));
            execFileSync("cosign", ["generate-key-pair"], { cwd: path.join(work, who), env: { ...process.env, COSIGN_PASSWORD: "" }, stdio: "ignore" });
            keys[who] = fs.readFileSync(path.join(work, who, "cosign.pub"), "utf8");
        }
        tool("cosign", ["sign", "--yes", "--key", "ours/cosign.key", "--tlog-upload=false", ref("signed")]);
    });

    after(async function () {
        await registry.stop();
        for (const dir of [work, dockerConfig]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("verifies a digest signed by the key, through the stack's login", async () => {
        await verifySignature(ref("signed"), { key: keys.ours }, LOGIN, "onedigest:image.ref");
    });

    it("refuses an unsigned digest", async () => {
        assert.strictEqual(
            await refusal("unsigned", "ours"),
            `onedigest:image.signedBy: refused ${ref("unsigned")} (onedigest:image.ref): it is unsigned: its registry holds no signature for ${digests.unsigned} (cosign: no signatures found). Only bits signed by the key in onedigest:image.signedBy.key are deployed: sign those bits with the matching private key (cosign sign --key cosign.key --tlog-upload=false ${ref("unsigned")}), or deploy another image.`,
        );
    });

    it("refuses a digest signed by another key", async () => {
        assert.match(await refusal("signed", "theirs"), new RegExp(`^onedigest:image\\.signedBy: refused ${ref("signed").replace(/[.]/g, "\\.")} \\(onedigest:image\\.ref\\): it is signed by another signer, not the key in onedigest:image\\.signedBy\\.key \\(cosign: no matching signatures: invalid signature when validating ASN\\.1 encoded signature\\)\\. `));
    });

    it("refuses a signature copied from another digest", async () => {
        // The signed digest's signature, under the tag cosign looks for the unsigned digest's.
        tool("crane", ["copy", `${repo}:${digests.signed.replace(":", "-")}.sig`, `${repo}:${digests.unsigned.replace(":", "-")}.sig`]);
        assert.match(await refusal("unsigned", "ours"), new RegExp(`\\(onedigest:image\\.ref\\): its signature is for another digest: it signs ${digests.signed}, not ${digests.unsigned}, so it was copied from other bits \\(cosign: no matching signatures: invalid or missing digest in claim: ${digests.signed}\\)`));
    });

    it("refuses when the registry refuses the login", async () => {
        const message = await refusal("signed", "ours", { username: LOGIN.username, password: "not-the-password" });
        assert.match(message, new RegExp(`^onedigest:image\\.signedBy: refused ${ref("signed").replace(/[.]/g, "\\.")} \\(onedigest:image\\.ref\\): the registry ${registry.host.replace(/[.]/g, "\\.")} refused the login the program has for it \\(cosign: .*UNAUTHORIZED`), message);
        assert.ok(!message.includes("not-the-password"), "the password is never in the message");
    });
});
