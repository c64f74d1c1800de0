/** `local`: runs the image on this machine's Docker engine. */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import { LIMITS } from "./names";
import { TargetComponent, envList, plainEnv, scopedName } from "./shared";
import { GRACEFUL_TIMEOUT_SECONDS, PLATFORMS, type TargetArgs, type TargetModule } from "./types";

export const RESTART_POLICIES = ["no", "on-failure", "always", "unless-stopped"] as const;

export interface LocalSettings {
    /** Host port on 127.0.0.1. @default 8080 */
    readonly port: number;
    /** @default "unless-stopped" */
    readonly restart: (typeof RESTART_POLICIES)[number];
    /** Memory limit. @default 512 */
    readonly memoryMb: number;
}

export class LocalContainer extends TargetComponent {
    readonly container: docker.Container;

    constructor(name: string, args: TargetArgs<LocalSettings>, opts?: pulumi.ComponentResourceOptions) {
        super("onedigest:local:Container", name, {}, opts);
        const { app, image, settings } = args;
        this.container = new docker.Container(
            `${name}-container`,
            {
                // Scoped by stack: two local stacks on one machine run side by side.
                name: scopedName(app, LIMITS.container),
                // By ID or digest: the container runs exactly the bits that were built, whatever a tag says later.
                image: image.localRef,
                // One list holding SECRET_KEY, so the whole list is stored as a secret.
                envs: pulumi.secret(
                    pulumi.all([app.secretKey, image.imageId]).apply(([secretKey, imageId]) => [...envList(plainEnv(app, { port: true, proxies: 0, imageId })), `SECRET_KEY=${secretKey}`]),
                ),
                ports: [{ internal: app.port, external: settings.port, ip: "127.0.0.1" }],
                restart: settings.restart,
                memory: settings.memoryMb,
                // No swap: the limit is the limit, as on every cloud target. Left unset, the engine
                // records twice the memory after create and every later preview shows a diff.
                memorySwap: settings.memoryMb,
                // The image's HEALTHCHECK decides readiness; `wait` makes the update fail if it never turns healthy.
                wait: true,
                waitTimeout: 60,
                readOnly: true,
                capabilities: { drops: ["ALL"] },
                securityOpts: ["no-new-privileges:true"],
                stopTimeout: GRACEFUL_TIMEOUT_SECONDS + 2,
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "3" },
            },
            { parent: this, deleteBeforeReplace: true, additionalSecretOutputs: ["envs"] },
        );
        this.publish({ url: pulumi.output(`http://localhost:${settings.port}`), image: image.localRef, imageId: image.imageId });
    }
}

export const local: TargetModule<LocalSettings> = {
    kind: "local",
    settingsKey: "local",
    platforms: PLATFORMS,
    // Only this machine's container uses the key: one generated into the stack's state is enough.
    generatedSecretKeyIsEnough: true,
    parse(r) {
        r.rejectUnknown(["port", "restart", "memoryMb"]);
        return {
            port: r.requiredInteger("port", 1024, 65535, 8080),
            restart: r.oneOf("restart", RESTART_POLICIES, "unless-stopped") ?? "unless-stopped",
            memoryMb: r.requiredInteger("memoryMb", 64, 65536, 512),
        };
    },
    deploy: (name, args, opts) => new LocalContainer(name, args, opts),
};
