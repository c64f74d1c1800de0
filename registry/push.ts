/**
 * `onedigest:registry:Push`: one copy of the image in one registry, pushed only when the registry
 * does not hold those bits yet (registry/operations.ts). A Pulumi dynamic resource; its functions
 * run in Pulumi's dynamic-provider process and load ./operations there.
 */
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { loadDynamicModule } from "../providers/dynamic";
import type * as Operations from "./operations";

const OPERATIONS_RELATIVE = path.relative(path.resolve(__dirname, ".."), path.join(__dirname, "operations"));
const OPERATIONS_ABSOLUTE = path.join(__dirname, "operations");

function operations(): typeof Operations {
    return loadDynamicModule<typeof Operations>(OPERATIONS_RELATIVE, OPERATIONS_ABSOLUTE);
}

export const pushProvider: pulumi.dynamic.ResourceProvider<Operations.PushInputs, Operations.PushOutputs> = {
    async create(inputs) {
        const outs = await operations().push(inputs);
        return { id: outs.ref, outs };
    },
    // No registry call: a refresh after the login expired still reads, and keeps what was pushed.
    async read(id, props) {
        return props ? { id, props } : {};
    },
    async diff(_id, olds, news) {
        return operations().diffPush(olds, news);
    },
    async delete(_id, props) {
        await operations().unpush(props);
    },
};

type Inputs<T> = { readonly [K in keyof T]: pulumi.Input<T[K]> };

export class RegistryPush extends pulumi.dynamic.Resource {
    declare readonly digest: pulumi.Output<string>;
    declare readonly ref: pulumi.Output<string>;
    declare readonly mediaType: pulumi.Output<string>;
    declare readonly pushed: pulumi.Output<boolean>;

    constructor(name: string, args: Inputs<Operations.PushInputs>, opts?: pulumi.CustomResourceOptions) {
        super(pushProvider, name, { ...args, password: pulumi.secret(args.password), digest: undefined, ref: undefined, mediaType: undefined, pushed: undefined }, { ...opts, additionalSecretOutputs: ["password"] }, "registry", "Push");
    }
}
