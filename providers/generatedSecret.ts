/**
 * A random SECRET_KEY made once and kept in the stack's state (encrypted by the stack's secrets
 * provider), for stacks whose key need not be shared with anything outside this machine.
 *
 * The stack keeps it as a secret output, GENERATED_SECRET_OUTPUT, and each run reads it back from the
 * stack's last state through a StackReference to the stack itself (the engine's built-in provider: no
 * plugin process, so a no-op `up` and a destroy pay nothing for it). It changes only when the stack
 * has no such output: its first `up`, after a destroy, or an `up` that failed before it ended the
 * first time — so sessions survive every `pulumi up`.
 */
import { randomBytes } from "crypto";

import * as pulumi from "@pulumi/pulumi";

/** Bytes of randomness in the value (hex-encoded, so twice as many characters). */
export const GENERATED_SECRET_BYTES = 32;
/** The stack output that keeps the generated key (always a secret). */
export const GENERATED_SECRET_OUTPUT = "generatedSecretKey";

const KEY = new RegExp(`^[0-9a-f]{${GENERATED_SECRET_BYTES * 2}}$`);

/** The key this stack kept, when it is one this program made; otherwise a new one. */
export function keptOrNew(kept: unknown, random: (bytes: number) => Buffer = randomBytes): string {
    return typeof kept === "string" && KEY.test(kept) ? kept : random(GENERATED_SECRET_BYTES).toString("hex");
}

/** The stack's generated key: the one it kept, or a new one. A Pulumi secret either way. */
export function generatedSecret(name: string, opts?: pulumi.CustomResourceOptions): pulumi.Output<string> {
    const self = `${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`;
    const previous = new pulumi.StackReference(name, { name: self }, opts);
    return pulumi.secret(pulumi.output(previous.getOutputDetails(GENERATED_SECRET_OUTPUT)).apply((d) => keptOrNew(d.secretValue ?? d.value)));
}
