/**
 * `onedigest:gcp:ApisReady`: the Google Cloud APIs a target enabled, once each answers
 * (providers/gcpApisOperations.ts). A Pulumi dynamic resource: its functions run in Pulumi's
 * dynamic-provider process and load the operations there.
 */
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { loadDynamicModule } from "./dynamic";
import type * as Operations from "./gcpApisOperations";

const OPERATIONS_RELATIVE = path.relative(path.resolve(__dirname, ".."), path.join(__dirname, "gcpApisOperations"));
const OPERATIONS_ABSOLUTE = path.join(__dirname, "gcpApisOperations");

function operations(): typeof Operations {
    return loadDynamicModule<typeof Operations>(OPERATIONS_RELATIVE, OPERATIONS_ABSOLUTE);
}

export const apisProvider: pulumi.dynamic.ResourceProvider<Operations.ApisInputs, Operations.ApisOutputs> = {
    async create(inputs) {
        const outs = await operations().waitForAll(inputs);
        return { id: `${inputs.project}/apis`, outs };
    },
    async diff(_id, olds, news) {
        return { changes: operations().diffApis(olds, news).changes };
    },
    async update(_id, olds, news) {
        const ops = operations();
        const outs = await ops.waitForAll(news, ops.diffApis(olds, news).added);
        return { outs: { ...outs, waitedSeconds: { ...olds.waitedSeconds, ...outs.waitedSeconds } } };
    },
    // Reads nothing: a refresh after the token expired still works.
    async read(id, props) {
        return props ? { id, props } : {};
    },
    // The APIs stay enabled (other workloads in the project may use them): nothing to undo.
    async delete() {},
};

type Inputs<T> = { readonly [K in keyof T]: pulumi.Input<T[K]> };

export class ApisReady extends pulumi.dynamic.Resource {
    declare readonly waitedSeconds: pulumi.Output<Record<string, number>>;

    constructor(name: string, args: Inputs<Operations.ApisInputs>, opts?: pulumi.CustomResourceOptions) {
        super(apisProvider, name, { ...args, accessToken: pulumi.secret(args.accessToken), waitedSeconds: undefined }, { ...opts, additionalSecretOutputs: ["accessToken"] }, "gcp", "ApisReady");
    }
}
