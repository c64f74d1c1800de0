/**
 * image.signedBy without a registry: how cosign is asked, how its refusals read, the login it gets
 * and that the program stops when cosign is missing. The real cosign against real registries is
 * test/pipeline/signatures.test.ts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { findCosign, loginDir, refusalReason, verifyArgs, verifySignature, type CosignRunner } from "../registry/signatures";

const DIGEST = `sha256:${"a".repeat(64)}`;
const OTHER = `sha256:${"b".repeat(64)}`;
const REF = `registry.example.com/app@${DIGEST}`;
const KEY = { key: "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n" };
const KEYLESS = { identity: "https://github.com/acme/shop/.github/workflows/deploy.yml@refs/heads/main", issuer: "https://token.actions.githubusercontent.com" };
const WARN = "WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the signature.\n";

describe("signatures: what cosign verify is asked", () => {
    it("a key travels in the environment, with the transparency log left out; a keyless signer by identity and issuer", () => {
        assert.deepStrictEqual(verifyArgs(REF, KEY), ["verify", "--key", "env://ONEDIGEST_SIGNED_BY_KEY", "--insecure-ignore-tlog", "--output", "json", REF]);
        assert.deepStrictEqual(verifyArgs(REF, KEYLESS), ["verify", "--certificate-identity", KEYLESS.identity, "--certificate-oidc-issuer", KEYLESS.issuer, "--output", "json", REF]);
    });

    it("reads cosign's refusals: unsigned, another signer, another digest's signature, a refused login", () => {
        const said = (line: string) => `${WARN}Error: ${line}\nerror during command execution: ${line}\n`;
        assert.strictEqual(refusalReason(REF, KEY, said("no signatures found")), `it is unsigned: its registry holds no signature for ${DIGEST} (cosign: no signatures found)`);
        assert.strictEqual(
            refusalReason(REF, KEY, said("no matching signatures: invalid signature when validating ASN.1 encoded signature")),
            "it is signed by another signer, not the key in onedigest:image.signedBy.key (cosign: no matching signatures: invalid signature when validating ASN.1 encoded signature)",
        );
        assert.strictEqual(
            refusalReason(REF, KEYLESS, said("no matching signatures: none of the expected identities matched what was in the certificate, got subjects [x@y] with issuer https://i")),
            `it is signed by another signer, not ${KEYLESS.identity} (issuer ${KEYLESS.issuer}) (cosign: no matching signatures: none of the expected identities matched what was in the certificate, got subjects [x@y] with issuer https://i)`,
        );
        assert.strictEqual(
            refusalReason(REF, KEY, said(`no matching signatures: invalid or missing digest in claim: ${OTHER}`)),
            `its signature is for another digest: it signs ${OTHER}, not ${DIGEST}, so it was copied from other bits (cosign: no matching signatures: invalid or missing digest in claim: ${OTHER})`,
        );
        assert.match(refusalReason(REF, KEY, said("GET https://registry.example.com/v2/app/manifests/sha256-aaa.sig: UNAUTHORIZED: authentication required; [map[Action:pull]]")), /^the registry registry\.example\.com refused the login the program has for it \(cosign: GET/);
        assert.strictEqual(refusalReason(REF, KEY, said("something else")), "cosign verify failed: something else");
        assert.strictEqual(refusalReason(REF, KEY, ""), "cosign verify failed: no output");
    });
});

describe("signatures: cosign's login and its absence", () => {
    it("a Docker config of one login, readable by its owner only; none for an anonymous registry", () => {
        const dir = loginDir("registry.example.com", { username: "deploy", password: "token" });
        try {
            assert.strictEqual(fs.statSync(dir).mode & 0o777, 0o700);
            assert.strictEqual(fs.statSync(path.join(dir, "config.json")).mode & 0o777, 0o600);
            assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")), { auths: { "registry.example.com": { auth: Buffer.from("deploy:token").toString("base64") } } });
        } finally {
            fs.rmSync(dir, { recursive: true });
        }
        const anonymous = loginDir("registry.example.com", {});
        assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(anonymous, "config.json"), "utf8")), { auths: {} });
        fs.rmSync(anonymous, { recursive: true });
    });

    it("runs cosign with that login and the key, removes the login after, and throws one message naming the ref", async () => {
        const seen: Array<{ args: readonly string[]; key?: string; config: unknown; dir: string }> = [];
        const run: CosignRunner = async (args, env) => {
            seen.push({ args, key: env.ONEDIGEST_SIGNED_BY_KEY, config: JSON.parse(fs.readFileSync(path.join(env.DOCKER_CONFIG!, "config.json"), "utf8")), dir: env.DOCKER_CONFIG! });
            return seen.length === 1 ? { code: 0, stdout: "[]", stderr: WARN } : { code: 10, stdout: "", stderr: `${WARN}Error: no signatures found\n` };
        };
        await verifySignature(REF, KEY, { username: "u", password: "p" }, "onedigest:image.ref", { run, env: {} });
        assert.strictEqual(seen[0].key, KEY.key);
        assert.deepStrictEqual(seen[0].config, { auths: { "registry.example.com": { auth: Buffer.from("u:p").toString("base64") } } });
        assert.ok(!fs.existsSync(seen[0].dir), "the login is removed after the run");
        await assert.rejects(verifySignature(REF, KEY, {}, "promotion from acme/onedigest/dev", { run, env: {} }), {
            name: "SignatureRefused",
            message: `onedigest:image.signedBy: refused ${REF} (promotion from acme/onedigest/dev): it is unsigned: its registry holds no signature for ${DIGEST} (cosign: no signatures found). Only bits signed by the key in onedigest:image.signedBy.key are deployed: sign those bits with the matching private key (cosign sign --key cosign.key --tlog-upload=false ${REF}), or deploy another image.`,
        });
        assert.ok(!fs.existsSync(seen[1].dir), "the login is removed after a refusal too");
        assert.strictEqual(seen[1].args.includes("--key"), true);
    });

    it("without cosign on PATH, says so and how to install it", async () => {
        const empty = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-nocosign-"));
        try {
            assert.strictEqual(findCosign(empty), undefined);
            assert.strictEqual(findCosign(undefined), undefined);
            await assert.rejects(verifySignature(REF, KEY, {}, "onedigest:image.ref", { env: { PATH: empty } }), {
                message: `onedigest:image.signedBy: cannot check ${REF} (onedigest:image.ref): cosign is not on PATH. Install cosign v2 (bash ../shared/tools/supply-chain/install.sh DIR, or https://docs.sigstore.dev/cosign/system_config/installation/) and put it on PATH, or remove onedigest:image.signedBy.`,
            });
            fs.writeFileSync(path.join(empty, "cosign"), "#!/bin/sh\n", { mode: 0o755 });
            assert.strictEqual(findCosign(`/nonexistent${path.delimiter}${empty}`), path.join(empty, "cosign"));
        } finally {
            fs.rmSync(empty, { recursive: true });
        }
    });
});
