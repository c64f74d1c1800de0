/** `local`: runs the image on this machine's Docker engine. */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

import { apiAtLeast, engineAddress, engineApiVersion } from "../registry/engine";
import { dockerHost } from "../registryAuth";
import { APP_ALIAS, CONFIG_FILE, MONITOR_LABEL, PROMETHEUS_PORT, RULES_FILE, alertRules, metricsPortOf, prometheusCommand, prometheusConfig, prometheusImage, prometheusSettings } from "./localMonitoring";
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
    /** Host port on 127.0.0.1 of the Prometheus beside the app (its UI and API). @default 9090 */
    readonly prometheusPort: number;
    /** How often Prometheus scrapes the app and evaluates the alert rules. @default 15 */
    readonly scrapeSeconds: number;
    /** How long a rule's condition must hold before it fires. @default alerts.unhealthyMinutes in seconds */
    readonly alertForSeconds?: number;
    /** Not a setting: the engine's API version, read by `prepare` before anything is deployed; unset if it did not answer. */
    readonly engineApiVersion?: string;
}

/** The image's HEALTHCHECK (app/Dockerfile), repeated on the container so that it can add a start interval. */
export const HEALTH_PROBE = {
    tests: ["CMD", "python3", "-c", "import os,sys,urllib.request as u; sys.exit(0 if u.urlopen('http://127.0.0.1:%s/healthcheck' % os.environ.get('PORT', '8080'), timeout=2).status == 200 else 1)"],
    interval: "10s",
    timeout: "3s",
    startPeriod: "10s",
    retries: 3,
} as const;
/**
 * While the container starts, probe every half second instead of the engine's default 5 s: `wait`
 * ends, and a replaced container serves, as soon as the app answers. Engines from API 1.44 (Docker 25)
 * honour it; older ones refuse the container outright, so there the image's own healthcheck is left as it is.
 */
export const START_INTERVAL = "500ms";
export const START_INTERVAL_API = "1.44";

/** How `prepare` asks the engine its API version (tests replace it). */
export const engineProbe = {
    apiVersion: (): Promise<string> => engineApiVersion(engineAddress(dockerHost().dockerHost)),
    timeoutMs: 5_000,
};

async function probeEngine(): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), engineProbe.timeoutMs);
        timer.unref();
    });
    try {
        return await Promise.race([engineProbe.apiVersion().catch(() => undefined), late]);
    } finally {
        clearTimeout(timer);
    }
}

export class LocalContainer extends TargetComponent {
    readonly container: docker.Container;
    readonly network: docker.Network;
    readonly prometheus: docker.Container;

    constructor(name: string, args: TargetArgs<LocalSettings>, opts?: pulumi.ComponentResourceOptions) {
        super("onedigest:local:Container", name, {}, opts);
        const { app, image, settings } = args;
        // The app and its Prometheus only: the metrics port is reached on this network, never published.
        this.network = new docker.Network(`${name}-network`, { name: scopedName(app, LIMITS.container, "net"), driver: "bridge" }, { parent: this });
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
                networksAdvanced: [{ name: this.network.name, aliases: [APP_ALIAS] }],
                restart: settings.restart,
                memory: settings.memoryMb,
                // No swap: the limit is the limit, as on every cloud target. Left unset, the engine
                // records twice the memory after create and every later preview shows a diff.
                memorySwap: settings.memoryMb,
                // The image's HEALTHCHECK decides readiness; `wait` makes the update fail if it never turns healthy.
                ...(settings.engineApiVersion && apiAtLeast(settings.engineApiVersion, START_INTERVAL_API) ? { healthcheck: { ...HEALTH_PROBE, tests: [...HEALTH_PROBE.tests], startInterval: START_INTERVAL } } : {}),
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
        this.prometheus = this.watch(name, args);
        this.publish({
            url: pulumi.output(`http://localhost:${settings.port}`),
            image: image.localRef,
            imageId: image.imageId,
            // Once Prometheus runs: its UI, with the alert rules' state under /alerts.
            dashboard: this.prometheus.id.apply(() => `http://127.0.0.1:${settings.prometheusPort}`),
        });
    }

    /** Prometheus beside the app: the three alert rules from the stack's thresholds, its UI on loopback. */
    private watch(name: string, args: TargetArgs<LocalSettings>): docker.Container {
        const { app, settings, alerts } = args;
        const s = prometheusSettings(settings, alerts);
        // Pulled when absent (by digest), kept when the stack goes: other stacks may run it.
        const image = new docker.RemoteImage(`${name}-prometheus-image`, { name: prometheusImage(), keepLocally: true }, { parent: this });
        return new docker.Container(
            `${name}-prometheus`,
            {
                name: scopedName(app, LIMITS.container, "prometheus"),
                image: image.imageId,
                command: prometheusCommand(),
                // Written before it starts; a new configuration is a new container (uploads are ForceNew).
                uploads: [
                    { file: CONFIG_FILE, content: prometheusConfig(s, metricsPortOf(app.env)) },
                    { file: RULES_FILE, content: alertRules(alerts, s) },
                ],
                networksAdvanced: [{ name: this.network.name }],
                labels: [MONITOR_LABEL],
                ports: [{ internal: PROMETHEUS_PORT, external: settings.prometheusPort, ip: "127.0.0.1" }],
                restart: settings.restart,
                memory: 256,
                memorySwap: 256,
                capabilities: { drops: ["ALL"] },
                securityOpts: ["no-new-privileges:true"],
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "3" },
            },
            // Not after the app: the two start and stop side by side (Prometheus retries a target
            // that does not answer yet), so neither `up` nor `destroy` waits for one then the other.
            { parent: this, deleteBeforeReplace: true },
        );
    }
}

export const local: TargetModule<LocalSettings> = {
    kind: "local",
    settingsKey: "local",
    platforms: PLATFORMS,
    // Only this machine's container uses the key: one generated into the stack's state is enough.
    generatedSecretKeyIsEnough: true,
    parse(r) {
        r.rejectUnknown(["port", "restart", "memoryMb", "prometheusPort", "scrapeSeconds", "alertForSeconds"]);
        const port = r.requiredInteger("port", 1024, 65535, 8080);
        // Pulumi.yaml gives these defaults too; a project without them still gets a Prometheus.
        const prometheusPort = r.integer("prometheusPort", 1024, 65535, 9090) ?? 9090;
        if (prometheusPort === port) {
            r.report("prometheusPort", prometheusPort, `a port other than onedigest:local.port (${port}): both are published on 127.0.0.1`, `pulumi config set --path ${r.path("prometheusPort")} ${port === 9090 ? 9091 : 9090}`);
        }
        const alertForSeconds = r.integer("alertForSeconds", 0, 86400, 180);
        return {
            port,
            restart: r.oneOf("restart", RESTART_POLICIES, "unless-stopped") ?? "unless-stopped",
            memoryMb: r.requiredInteger("memoryMb", 64, 65536, 512),
            prometheusPort,
            scrapeSeconds: r.integer("scrapeSeconds", 1, 300, 15) ?? 15,
            ...(alertForSeconds === undefined ? {} : { alertForSeconds }),
        };
    },
    async prepare(settings) {
        const engineApiVersion = await probeEngine();
        return engineApiVersion ? { ...settings, engineApiVersion } : settings;
    },
    deploy: (name, args, opts) => new LocalContainer(name, args, opts),
};
