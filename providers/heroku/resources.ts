/**
 * Pulumi dynamic resources for a Heroku container app and its releases. The provider functions run
 * in Pulumi's dynamic-provider process, so they load ./operations there (TypeScript via ts-node
 * when the program runs uncompiled).
 */
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";

import { loadDynamicModule } from "../dynamic";
import type * as Operations from "./operations";

/** Where ./operations is, relative to the project and as an absolute path when serialized. */
const OPERATIONS_RELATIVE = path.relative(path.resolve(__dirname, "..", ".."), path.join(__dirname, "operations"));
const OPERATIONS_ABSOLUTE = path.join(__dirname, "operations");

/** ./operations, loaded inside the dynamic-provider process (providers/dynamic.ts). */
function operations(): typeof Operations {
    return loadDynamicModule<typeof Operations>(OPERATIONS_RELATIVE, OPERATIONS_ABSOLUTE);
}

export const appProvider: pulumi.dynamic.ResourceProvider<Operations.AppInputs, Operations.AppOutputs> = {
    async create(inputs) {
        const ops = operations();
        const outs = await ops.createApp(ops.clientFor(inputs), inputs);
        return { id: outs.appId, outs };
    },
    async read(id, props) {
        const ops = operations();
        if (!props) return {};
        const outs = await ops.readApp(ops.clientFor(props), id, props);
        return outs ? { id, props: outs } : {};
    },
    async diff(_id, olds, news) {
        const { changes, replaces } = operations().diffApp(olds, news);
        // The name stays the same across a replacement, so the old app must go first.
        return { changes, replaces, deleteBeforeReplace: true };
    },
    async update(id, olds, news) {
        const ops = operations();
        return { outs: await ops.updateApp(ops.clientFor(news), id, olds, news) };
    },
    async delete(id, props) {
        const ops = operations();
        await ops.deleteApp(ops.clientFor(props), id, props.name);
    },
};

export const releaseProvider: pulumi.dynamic.ResourceProvider<Operations.ReleaseInputs, Operations.ReleaseOutputs> = {
    async create(inputs) {
        const ops = operations();
        const outs = await ops.release(ops.clientFor(inputs), inputs);
        return { id: `${inputs.app}-v${outs.version}`, outs };
    },
    async diff(_id, olds, news) {
        const fields = ["app", "imageId", "manifestDigest", "quantity", "size"] as const;
        return { changes: fields.some((f) => olds[f] !== news[f]) };
    },
    async update(_id, olds, news) {
        const ops = operations();
        const client = ops.clientFor(news);
        const sameBits = olds.app === news.app && olds.imageId === news.imageId && olds.manifestDigest === news.manifestDigest;
        return { outs: sameBits ? await ops.scale(client, olds, news) : await ops.release(client, news) };
    },
    // A release cannot be undone by deleting it; the app's deletion removes everything.
    async delete() {},
};

export const logDrainProvider: pulumi.dynamic.ResourceProvider<Operations.LogDrainInputs, Operations.LogDrainOutputs> = {
    async create(inputs) {
        const ops = operations();
        const outs = await ops.createLogDrain(ops.clientFor(inputs), inputs);
        return { id: outs.drainId, outs };
    },
    async read(id, props) {
        const ops = operations();
        if (!props) return {};
        const outs = await ops.readLogDrain(ops.clientFor(props), id, props);
        return outs ? { id, props: outs } : {};
    },
    async diff(_id, olds, news) {
        return operations().diffLogDrain(olds, news);
    },
    // Only the key or the endpoint changed: the drain is the same one.
    async update(_id, olds, news) {
        return { outs: { ...news, drainId: olds.drainId, token: olds.token } };
    },
    async delete(id, props) {
        const ops = operations();
        await ops.deleteLogDrain(ops.clientFor(props), id, props.app);
    },
};

type Inputs<T> = { readonly [K in keyof T]: pulumi.Input<T[K]> };

export class HerokuApp extends pulumi.dynamic.Resource {
    declare readonly appId: pulumi.Output<string>;
    declare readonly name: pulumi.Output<string>;
    declare readonly webUrl: pulumi.Output<string>;

    constructor(name: string, args: Inputs<Operations.AppInputs>, opts?: pulumi.CustomResourceOptions) {
        super(appProvider, name, { ...args, appId: undefined, webUrl: undefined }, { ...opts, additionalSecretOutputs: ["configVars", "apiKey"] }, "heroku", "App");
    }
}

export class HerokuRelease extends pulumi.dynamic.Resource {
    declare readonly releaseId: pulumi.Output<string>;
    declare readonly version: pulumi.Output<number>;
    declare readonly imageId: pulumi.Output<string>;

    constructor(name: string, args: Inputs<Operations.ReleaseInputs>, opts?: pulumi.CustomResourceOptions) {
        super(releaseProvider, name, { ...args, releaseId: undefined, version: undefined, status: undefined }, { ...opts, additionalSecretOutputs: ["apiKey"] }, "heroku", "Release");
    }
}

export class HerokuLogDrain extends pulumi.dynamic.Resource {
    declare readonly drainId: pulumi.Output<string>;
    declare readonly token: pulumi.Output<string>;

    constructor(name: string, args: Inputs<Operations.LogDrainInputs>, opts?: pulumi.CustomResourceOptions) {
        super(logDrainProvider, name, { ...args, url: pulumi.secret(args.url), drainId: undefined, token: undefined }, { ...opts, additionalSecretOutputs: ["url", "apiKey"] }, "heroku", "LogDrain");
    }
}
