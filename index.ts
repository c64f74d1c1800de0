/** onedigest: config → the one image → one deployment per configured target → exports. */
import * as pulumi from "@pulumi/pulumi";

import { loadConfig } from "./config";
import { engineImageStore, requireClassicImageStore, resolveImage } from "./image";
import { modules, type TargetKind } from "./providers";
import { GeneratedSecret } from "./providers/generatedSecret";
import { SharedRegistry, exportable, isProductionStack } from "./providers/shared";
import { HEALTH_PATH, type AppSpec, type Deployment } from "./providers/types";

const config = loadConfig();
// Before any resource: the identity of the bits depends on the engine's image store.
requireClassicImageStore(engineImageStore());
const secretKey = config.secretKey ?? new GeneratedSecret(`${config.app.name}-secret-key`).value;
const app: AppSpec = { ...config.app, stack: config.stack, production: isProductionStack(config.stack), secretKey, healthPath: HEALTH_PATH };
const image = resolveImage(config.image, config.app, config.registries);
const shared = new SharedRegistry();

const deployed: Array<[TargetKind, Deployment]> = config.targets.map((kind) => [
    kind,
    modules[kind].deploy(`${config.app.name}-${kind}`, { app, image, settings: config.settings[kind], shared }),
]);

export const imageId = image.imageId;
export const deployments = pulumi.output(Object.fromEntries(deployed.map(([kind, d]) => [kind, exportable(d)])));
export const url = deployed[0][1].url;
