/**
 * What the signature resource does, as plain async functions (tests run them against real loopback
 * registries with the real cosign and syft): one copy of the image, by its manifest digest, signed
 * with the stack's cosign key and given an SBOM attestation that syft takes from the image itself
 * (the venv's packages and the base's OS packages), both stored beside the image in its registry.
 * cosign and syft log in with exactly that registry's login, in a Docker config that lives only as
 * long as the commands. Without the transparency log (--tlog-upload=false): a key's signature is
 * checked against the key (`cosign verify --key … --insecure-ignore-tlog`).
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";

import { findCosign, loginDir } from "./signatures";

export interface SignInputs {
    /** `repository@sha256:…`: the manifest digest pushed. */
    readonly ref: string;
    /** The registry's login address. */
    readonly server: string;
    readonly username: string;
    /** Secret. */
    readonly password: string;
    /** The cosign private key (PEM), secret. */
    readonly signingKey: string;
    /** The key's password, secret; empty for a key made with an empty COSIGN_PASSWORD. */
    readonly signingKeyPassword: string;
}

export interface SignOutputs extends SignInputs {
    /** The SBOM attested (CycloneDX JSON), by its sha256. */
    readonly sbomDigest: string;
    /** How many packages syft found in the image. */
    readonly sbomComponents: number;
}

/** Fields whose change means another signature: a new digest, another registry, another key. */
export const SIGN_IDENTITY = ["ref", "server", "signingKey"] as const;

export function diffSign(olds: SignInputs, news: SignInputs): { changes: boolean; replaces: string[] } {
    const replaces = SIGN_IDENTITY.filter((f) => olds[f] !== news[f]);
    return { changes: replaces.length > 0, replaces: [...replaces] };
}

function tool(name: string, env: NodeJS.ProcessEnv): string {
    if (name === "cosign") {
        const found = findCosign(env.PATH);
        if (found) return found;
    } else {
        for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean)) if (fs.existsSync(path.join(dir, name))) return path.join(dir, name);
    }
    throw new Error(`signing the pushed image: ${name} is not on PATH (bash ../shared/tools/supply-chain/install.sh DIR puts cosign and syft there)`);
}

function execTool(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(file, [...args], { env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${path.basename(file)} ${args[0]} failed: ${stderr.split("\n").filter((l) => l.trim() && !l.startsWith("WARNING")).pop() ?? err.message}`));
            else resolve(stdout);
        });
    });
}

/** Signs `ref`, makes its SBOM with syft from the image in the registry, and attests it. */
export async function sign(inputs: SignInputs, env: NodeJS.ProcessEnv = process.env): Promise<SignOutputs> {
    const cosign = tool("cosign", env);
    const syft = tool("syft", env);
    const dir = loginDir(inputs.server, { username: inputs.username, password: inputs.password });
    try {
        const run: NodeJS.ProcessEnv = { ...env, DOCKER_CONFIG: dir, ONEDIGEST_SIGNING_KEY: inputs.signingKey, COSIGN_PASSWORD: inputs.signingKeyPassword, SYFT_CHECK_FOR_APP_UPDATE: "false" };
        const sbomFile = path.join(dir, "sbom.cdx.json");
        // From the registry's copy itself: what is attested is what runs.
        await execTool(syft, ["scan", `registry:${inputs.ref}`, "-o", `cyclonedx-json=${sbomFile}`, "-q"], run);
        const sbom = fs.readFileSync(sbomFile);
        const components = ((JSON.parse(sbom.toString("utf8")) as { components?: unknown[] }).components ?? []).length;
        const key = ["--key", "env://ONEDIGEST_SIGNING_KEY", "--tlog-upload=false", "--yes"];
        await execTool(cosign, ["sign", ...key, inputs.ref], run);
        await execTool(cosign, ["attest", ...key, "--type", "cyclonedx", "--predicate", sbomFile, inputs.ref], run);
        const { createHash } = await import("crypto");
        return { ...inputs, sbomDigest: `sha256:${createHash("sha256").update(sbom).digest("hex")}`, sbomComponents: components };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
