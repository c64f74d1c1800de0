/**
 * Whose bits these are: `onedigest:image.signedBy` checked with the real `cosign verify`, before any
 * resource, for every image a stack deploys that it did not build itself (a promotion, an
 * `image.ref` pin, a rollback). cosign talks to the registry with the login the program already has
 * for that reference (registryAuth.ts), handed over in a Docker config of its own that lives only as
 * long as the one command: no password on a command line, nothing of the machine's own logins used.
 */
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { RunError } from "@pulumi/pulumi";

/** Who must have signed: a cosign public key, or a keyless (Fulcio) certificate's identity and issuer. */
export type Signer = { readonly key: string } | { readonly identity: string; readonly issuer: string };

export interface SignatureLogin {
    readonly username?: string;
    readonly password?: string;
}

/** The exit code and output of one cosign run. */
export interface CosignResult {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

export type CosignRunner = (args: readonly string[], env: NodeJS.ProcessEnv) => Promise<CosignResult>;

export const SIGNED_BY = "onedigest:image.signedBy";
const DIGEST = /@(sha256:[0-9a-f]{64})$/;

/** Where `cosign` is on a PATH, or undefined. */
export function findCosign(pathEnv: string | undefined): string | undefined {
    for (const dir of (pathEnv ?? "").split(path.delimiter).filter(Boolean)) {
        const file = path.join(dir, "cosign");
        try {
            fs.accessSync(file, fs.constants.X_OK);
            if (fs.statSync(file).isFile()) return file;
        } catch {
            // not in this directory
        }
    }
    return undefined;
}

/** The registry host of a `host[:port]/path@sha256:…` reference. */
function hostOf(ref: string): string {
    return ref.split("/")[0];
}

/** What cosign is asked: which signer, with the transparency log left out for a key (signed with --tlog-upload=false). */
export function verifyArgs(ref: string, signer: Signer): string[] {
    const who = "key" in signer ? ["--key", "env://ONEDIGEST_SIGNED_BY_KEY", "--insecure-ignore-tlog"] : ["--certificate-identity", signer.identity, "--certificate-oidc-issuer", signer.issuer];
    return ["verify", ...who, "--output", "json", ref];
}

/** The signer as a message names it. */
export function describeSigner(signer: Signer): string {
    return "key" in signer ? `the key in ${SIGNED_BY}.key` : `${signer.identity} (issuer ${signer.issuer})`;
}

/** cosign's own reason: the last `Error: …` line it printed, else its last line. */
function cosignReason(stderr: string): string {
    const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
    const error = lines.filter((l) => l.startsWith("Error: ")).pop();
    return (error ?? lines.filter((l) => !l.startsWith("WARNING")).pop() ?? "no output").replace(/^Error: /, "");
}

/** Why cosign refused, in the reader's terms; `stderr` is what `cosign verify` printed. */
export function refusalReason(ref: string, signer: Signer, stderr: string): string {
    const said = cosignReason(stderr);
    const digest = DIGEST.exec(ref)?.[1];
    if (/no signatures found/.test(said)) return `it is unsigned: its registry holds no signature for ${digest ?? "this digest"} (cosign: ${said})`;
    const claim = /invalid or missing digest in claim: (sha256:[0-9a-f]{64})/.exec(said);
    if (claim) return `its signature is for another digest: it signs ${claim[1]}, not ${digest}, so it was copied from other bits (cosign: ${said})`;
    if (/invalid signature when validating|none of the expected identities matched|expected (identity|issuer) not found|certificate.*(identity|issuer)/i.test(said)) {
        return `it is signed by another signer, not ${describeSigner(signer)} (cosign: ${said})`;
    }
    if (/UNAUTHORIZED|DENIED|authentication required|status code 40[13]|\b40[13] (Unauthorized|Forbidden)/i.test(said)) {
        return `the registry ${hostOf(ref)} refused the login the program has for it (cosign: ${said})`;
    }
    return `cosign verify failed: ${said}`;
}

/** The one message of a refusal: the key, what was to be deployed, its reference, why, and the fix. */
export function refusalMessage(ref: string, signer: Signer, what: string, reason: string): string {
    const fix = "key" in signer ? `sign those bits with the matching private key (cosign sign --key cosign.key --tlog-upload=false ${ref})` : `deploy bits the signer signed (a build of the delivery workflow)`;
    return `${SIGNED_BY}: refused ${ref} (${what}): ${reason}. Only bits signed by ${describeSigner(signer)} are deployed: ${fix}, or deploy another image.`;
}

export class SignatureRefused extends RunError {
    constructor(message: string) {
        super(message);
        this.name = "SignatureRefused";
    }
}

const runCosign =
    (cosign: string): CosignRunner =>
    (args, env) =>
        new Promise((resolve) => {
            execFile(cosign, [...args], { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
                if (!err) return resolve({ code: 0, stdout, stderr });
                // A number is cosign's exit code; anything else (ENOENT, a timeout's signal) is the run itself failing.
                const code = (err as { code?: unknown }).code;
                resolve({ code: typeof code === "number" ? code : 1, stdout, stderr: typeof code === "number" ? stderr : `${stderr}\nError: running ${cosign}: ${err.message}` });
            });
        });

/**
 * A Docker config directory holding exactly one login (or none, for an anonymous registry), readable
 * by this user only; the caller removes it.
 */
export function loginDir(host: string, login: SignatureLogin): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "onedigest-cosign-"));
    fs.chmodSync(dir, 0o700);
    const auths = login.username !== undefined && login.password !== undefined ? { [host]: { auth: Buffer.from(`${login.username}:${login.password}`).toString("base64") } } : {};
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ auths }), { mode: 0o600 });
    return dir;
}

export interface VerifyOptions {
    /** The environment cosign runs in (PATH finds it; SSL_CERT_FILE names the CAs). @default process.env */
    readonly env?: NodeJS.ProcessEnv;
    /** Runs cosign; tests pass their own. @default the `cosign` found on env.PATH */
    readonly run?: CosignRunner;
}

/**
 * Verifies that `ref` (`repo@sha256:…`) carries a signature of `signer` over exactly its digest, or
 * throws one SignatureRefused naming the reference and why.
 */
export async function verifySignature(ref: string, signer: Signer, login: SignatureLogin, what: string, opts: VerifyOptions = {}): Promise<void> {
    const env = opts.env ?? process.env;
    let run = opts.run;
    if (!run) {
        const cosign = findCosign(env.PATH);
        if (!cosign) throw new SignatureRefused(`${SIGNED_BY}: cannot check ${ref} (${what}): cosign is not on PATH. Install cosign v2 (bash ../shared/tools/supply-chain/install.sh DIR, or https://docs.sigstore.dev/cosign/system_config/installation/) and put it on PATH, or remove ${SIGNED_BY}.`);
        run = runCosign(cosign);
    }
    const dir = loginDir(hostOf(ref), login);
    try {
        const result = await run(verifyArgs(ref, signer), {
            ...env,
            DOCKER_CONFIG: dir,
            ...("key" in signer ? { ONEDIGEST_SIGNED_BY_KEY: signer.key } : {}),
        });
        if (result.code !== 0) throw new SignatureRefused(refusalMessage(ref, signer, what, refusalReason(ref, signer, result.stderr)));
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
