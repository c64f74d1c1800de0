/**
 * image.signedBy through the real Pulumi CLI and engine: a stack pinned by `image.ref` to bits in a
 * loopback registry that answers only to logins (the login from `onedigest:registryAuth`), checked
 * with the real cosign before any resource. Signed by another key, the preview and the up stop with
 * the program's one message and the state holds nothing; signed by the stack's key, the preview
 * goes through to the pull. And the program's registry:Signature, through the engine's
 * dynamic-provider process (fixtures/signature), signs and attests a pushed digest that plain
 * `cosign verify` then accepts, once: a repeat preview is empty.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { findCosign, loginDir } from "../../registry/signatures";
import { ROOT } from "../mocks";
import { freePort } from "../pipeline/docker";
import { SecureRegistry } from "../registry";
import { Stack, cliEnv, ok, tempDir } from "./cli";

const FIXTURE = path.join(__dirname, "fixtures", "signature");

const LOGIN = { username: "puller", password: "signed-by-token-0123" };

describe("real engine: image.signedBy refuses what its signer did not sign, before any resource", function () {
    const registry = new SecureRegistry({ [LOGIN.username]: LOGIN.password });
    let scratch = "";
    let dockerConfig = "";
    let ref = "";
    let other = "";
    let pinned: Stack;
    let signer: Stack | undefined;
    const keys: Record<string, string> = {};

    before(async function () {
        assert.ok(process.env.DOCKER_HOST && process.env.NODE_EXTRA_CA_CERTS, "no engine: run through scripts/test.sh, which starts dockerd and the registries");
        assert.ok(findCosign(process.env.PATH), "no cosign on PATH: scripts/test.sh installs it from ../shared/tools/supply-chain");
        await registry.start();
        scratch = tempDir("onedigest-signed-by-");
        dockerConfig = loginDir(registry.host, LOGIN);
        const tool = (cmd: string, args: string[], cwd = scratch) =>
            execFileSync(cmd, args, { cwd, env: { ...process.env, DOCKER_CONFIG: dockerConfig, COSIGN_PASSWORD: "" }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
        fs.writeFileSync(path.join(scratch, "content"), "signed bits\n");
        tool("tar", ["-cf", "image.tar", "content"]);
        const repo = `${registry.host}/shop/app`;
        tool("crane", ["append", "-f", "image.tar", "-t", `${repo}:v1`]);
        ref = `${repo}@${tool("crane", ["digest", `${repo}:v1`])}`;
        fs.writeFileSync(path.join(scratch, "content"), "other bits\n");
        tool("tar", ["-cf", "other.tar", "content"]);
        tool("crane", ["append", "-f", "other.tar", "-t", `${repo}:v2`]);
        other = `${repo}@${tool("crane", ["digest", `${repo}:v2`])}`;
        for (const who of ["ours", "theirs"]) {
            fs.mkdirSync(path.join(scratch, who));
            tool("cosign", ["generate-key-pair"], path.join(scratch, who));
            keys[who] = fs.readFileSync(path.join(scratch, who, "cosign.pub"), "utf8");
        }
        tool("cosign", ["sign", "--yes", "--key", "ours/cosign.key", "--tlog-upload=false", ref]);
        fs.mkdirSync(path.join(scratch, "state"));
        pinned = await Stack.create("engine-signed-by", ROOT, scratch, cliEnv(path.join(scratch, "state")), { targets: ["local"], app: { name: "engine-signed" }, local: { port: await freePort() } });
        await pinned.setConfig("image.ref", ref, { path: true });
        await pinned.setConfig("registryAuth[0].address", registry.host, { secret: true, path: true });
        await pinned.setConfig("registryAuth[0].username", LOGIN.username, { secret: true, path: true });
        await pinned.setConfig("registryAuth[0].password", LOGIN.password, { secret: true, path: true });
    });

    after(async function () {
        if (signer) await signer.remove().catch((err: Error) => console.log(`      cleanup: ${err.message.split("\n")[0]}`));
        if (pinned) await pinned.remove().catch((err: Error) => console.log(`      cleanup: ${err.message.split("\n")[0]}`));
        await registry.stop();
        for (const dir of [scratch, dockerConfig]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    // On stdin: as an argument, the PEM's leading dashes read as a flag (a shell needs `-- "$(cat cosign.pub)"`).
    const setKey = (pem: string) => pinned.setConfig("image.signedBy.key", pem, { path: true });

    it("signed by another key: preview and up stop with the program's message, and nothing is made", async () => {
        await setKey(keys.theirs);
        const preview = await pinned.cli(["preview"]);
        const out = preview.stdout + preview.stderr;
        assert.notStrictEqual(preview.code, 0, out);
        // The CLI masks the registry's host: it is also a value of the secret registryAuth.
        const shown = ref.replace(registry.host, "[secret]");
        assert.ok(
            out.includes(`onedigest:image.signedBy: refused ${shown} (onedigest:image.ref): it is signed by another signer, not the key in onedigest:image.signedBy.key (cosign: no matching signatures: invalid signature when validating ASN.1 encoded signature).`),
            out,
        );
        assert.ok(!/\n\s+at .*\(.*\.ts:\d+/.test(out), "no stack trace for a refusal");
        assert.ok(!out.includes(LOGIN.password), "the login's password is never printed");
        const up = await pinned.up();
        assert.notStrictEqual(up.code, 0);
        assert.ok((up.stdout + up.stderr).includes(`onedigest:image.signedBy: refused ${shown}`));
        assert.deepStrictEqual((await pinned.resourceTypes()).filter((t) => t !== "pulumi:pulumi:Stack"), []);
    });

    it("signed by the stack's key: the preview goes on to pull the pinned digest", async () => {
        await setKey(keys.ours);
        const preview = ok(await pinned.cli(["preview", "--json"]), "preview engine-signed-by");
        const steps = JSON.parse(preview.stdout) as { steps?: Array<{ urn: string; newState?: { inputs?: { name?: string } } }> };
        const pull = (steps.steps ?? []).find((s) => s.urn.endsWith("::engine-signed-pinned"));
        assert.strictEqual(pull?.newState?.inputs?.name, ref);
    });

    it("registry:Signature signs and attests a pushed digest through the engine, once; plain cosign verifies it", async () => {
        signer = await Stack.create("engine-signature", FIXTURE, scratch, cliEnv(path.join(scratch, "state")), { "signature-check:ref": other, "signature-check:server": registry.host, "signature-check:username": LOGIN.username });
        await signer.setConfig("signature-check:password", LOGIN.password, { secret: true });
        await signer.setConfig("signature-check:signingKey", fs.readFileSync(path.join(scratch, "theirs", "cosign.key"), "utf8"), { secret: true });
        await signer.setConfig("signature-check:signingKeyPassword", "", { secret: true });
        ok(await signer.up(), "up engine-signature");
        const verify = spawnSync("cosign", ["verify", "--key", path.join(scratch, "theirs", "cosign.pub"), "--insecure-ignore-tlog", other], { env: { ...process.env, DOCKER_CONFIG: dockerConfig }, encoding: "utf8" });
        assert.strictEqual(verify.status, 0, verify.stderr);
        const attested = spawnSync("cosign", ["verify-attestation", "--key", path.join(scratch, "theirs", "cosign.pub"), "--insecure-ignore-tlog", "--type", "cyclonedx", other], { env: { ...process.env, DOCKER_CONFIG: dockerConfig }, encoding: "utf8" });
        assert.strictEqual(attested.status, 0, attested.stderr);
        ok(await signer.cli(["preview", "--expect-no-changes"]), "preview --expect-no-changes engine-signature");
        const state = ok(await signer.cli(["stack", "export"], { config: false }), "stack export").stdout;
        assert.ok(!state.includes("ENCRYPTED SIGSTORE PRIVATE KEY") && !state.includes(LOGIN.password), "the key and the login are secrets in the state");
    });
});
