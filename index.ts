/** onedigest: config → lookups → the one image → one deployment per configured target → exports. */
import "./stackFrames";
import * as pulumi from "@pulumi/pulumi";

import { loadConfig } from "./config";
import { lookUpImage, resolveImage } from "./image";
import { modules, type TargetKind } from "./providers";
import { GeneratedSecret } from "./providers/generatedSecret";
import { SharedRegistry, exportable, isProductionStack } from "./providers/shared";
import { HEALTH_PATH, type AppSpec, type Deployment } from "./providers/types";

// Config is read and checked as the program loads: a bad value stops it at once, before any resource.
const config = loadConfig();

export = async () => {
    const production = isProductionStack(config.stack);
    // Every lookup before the first resource is created: what is missing (a network, a login, a stack
    // to promote from) is the program's own message, and nothing has been made.
    const lookupCtx = { app: { name: config.app.name, stack: config.stack, production } };
    const [pulled, ...prepared] = await Promise.all([
        lookUpImage(config.image, config.registries),
        ...config.targets.map((kind) => modules[kind].prepare(config.settings[kind], lookupCtx)),
    ]);

    const secretKey = config.secretKey ?? new GeneratedSecret(`${config.app.name}-secret-key`).value;
    const app: AppSpec = { ...config.app, stack: config.stack, production, secretKey, healthPath: HEALTH_PATH };
    const image = resolveImage(config.image, config.app, config.registries, pulled);
    const shared = new SharedRegistry();

    const deployed: Array<[TargetKind, Deployment]> = config.targets.map((kind, i) => [
        kind,
        modules[kind].deploy(`${config.app.name}-${kind}`, { app, image, settings: prepared[i], shared, alerts: config.alerts }),
    ]);

    return {
        imageId: image.imageId,
        deployments: pulumi.output(Object.fromEntries(deployed.map(([kind, d]) => [kind, exportable(d)]))),
        url: deployed[0][1].url,
        // What the alarms fire on (not where they go): scripts/verify.sh --load reports the headroom.
        alerts: { errorRatePercent: config.alerts.errorRatePercent, latencyP99Ms: config.alerts.latencyP99Ms, unhealthyMinutes: config.alerts.unhealthyMinutes },
    };
};
