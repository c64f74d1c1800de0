/**
 * `onedigest:registry:Signature`: the cosign signature and SBOM attestation of one pushed copy
 * (registry/signing.ts), made once per digest, registry and key. A Pulumi dynamic resource; its
 * functions run in Pulumi's dynamic-provider process and load ./signing there. Deleting it leaves
 * the signature in the registry: it stays true of those bits.
 */
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { loadDynamicModule } from "../providers/dynamic";
import type * as Signing from "./signing";

const SIGNING_RELATIVE = path.relative(path.resolve(__dirname, ".."), path.join(__dirname, "signing"));
const SIGNING_ABSOLUTE = path.join(__dirname, "signing");

function signing(): typeof Signing {
    return loadDynamicModule<typeof Signing>(SIGNING_RELATIVE, SIGNING_ABSOLUTE);
}

export const signProvider: pulumi.dynamic.ResourceProvider<Signing.SignInputs, Signing.SignOutputs> = {
    async create(inputs) {
        const outs = await signing().sign(inputs);
        return { id: inputs.ref, outs };
    },
    async read(id, props) {
        return props ? { id, props } : {};
    },
    async diff(_id, olds, news) {
        return signing().diffSign(olds, news);
    },
};

type Inputs<T> = { readonly [K in keyof T]: pulumi.Input<T[K]> };

export class RegistrySignature extends pulumi.dynamic.Resource {
    declare readonly ref: pulumi.Output<string>;
    declare readonly sbomDigest: pulumi.Output<string>;
    declare readonly sbomComponents: pulumi.Output<number>;

    constructor(name: string, args: Inputs<Signing.SignInputs>, opts?: pulumi.CustomResourceOptions) {
        super(
            signProvider,
            name,
            { ...args, password: pulumi.secret(args.password), signingKey: pulumi.secret(args.signingKey), signingKeyPassword: pulumi.secret(args.signingKeyPassword), sbomDigest: undefined, sbomComponents: undefined },
            { ...opts, additionalSecretOutputs: ["password", "signingKey", "signingKeyPassword"] },
            "registry",
            "Signature",
        );
    }
}
