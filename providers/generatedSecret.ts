/**
 * A random secret made once and kept in the stack's state (encrypted by the stack's secrets
 * provider), for stacks whose SECRET_KEY need not be shared with anything outside this machine.
 * It changes only when the resource is replaced, so sessions survive every `pulumi up`.
 */
import * as pulumi from "@pulumi/pulumi";

/** Bytes of randomness in the value (hex-encoded, so twice as many characters). */
export const GENERATED_SECRET_BYTES = 32;

export const generatedSecretProvider: pulumi.dynamic.ResourceProvider = {
    // Everything the engine serializes is inside the function: it runs in the dynamic-provider process.
    async create(inputs: { bytes: number }) {
        const crypto = await import("crypto");
        return { id: crypto.randomUUID(), outs: { bytes: inputs.bytes, value: crypto.randomBytes(inputs.bytes).toString("hex") } };
    },
};

export class GeneratedSecret extends pulumi.dynamic.Resource {
    /** The secret, hex; always a Pulumi secret. */
    declare readonly value: pulumi.Output<string>;

    constructor(name: string, opts?: pulumi.CustomResourceOptions) {
        super(generatedSecretProvider, name, { bytes: GENERATED_SECRET_BYTES, value: undefined }, { ...opts, additionalSecretOutputs: ["value"] }, "onedigest", "GeneratedSecret");
    }
}
