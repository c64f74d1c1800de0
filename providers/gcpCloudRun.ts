/** `gcp-cloudrun`: Cloud Run v2, the image pushed to Artifact Registry, SECRET_KEY from Secret Manager. */
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

import { ApisReady } from "./gcpApis";
import { PROBES } from "./gcpApisOperations";
import { alertPolicy, dashboardJson, dashboardUrl, errorRatioCondition, latencyCondition, uptimeAlertCondition } from "./gcpMonitoring";
import { LIMITS, physicalName } from "./names";
import { TargetComponent, findOptional, isProductionStack, plainEnv, scopedName } from "./shared";
import { requestsInFlight, type AlertSettings, type AppSpec, type TargetArgs, type TargetModule } from "./types";

export const CLOUD_RUN_CPUS = ["1", "2", "4", "6", "8"] as const;
export const CLOUD_RUN_MEMORY = ["512Mi", "1Gi", "2Gi", "4Gi", "8Gi", "16Gi", "24Gi", "32Gi"] as const;
/** Cloud Run's CPU ↔ memory rules: least memory for a CPU count, most memory a CPU count allows. */
const MIN_MEMORY_MI: Record<(typeof CLOUD_RUN_CPUS)[number], number> = { "1": 512, "2": 512, "4": 2048, "6": 4096, "8": 4096 };
const MAX_MEMORY_MI: Record<(typeof CLOUD_RUN_CPUS)[number], number> = { "1": 4096, "2": 8192, "4": 16384, "6": 24576, "8": 32768 };
export const INGRESS = {
    all: "INGRESS_TRAFFIC_ALL",
    internal: "INGRESS_TRAFFIC_INTERNAL_ONLY",
    "internal-and-cloud-load-balancing": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
} as const;
/**
 * The APIs the target uses, Cloud Resource Manager first: the Google provider reads the project
 * through it when it enables any other (resource_google_project_service.go, Read), so on a fresh
 * project it must be on before the rest.
 */
export const REQUIRED_APIS = [
    "cloudresourcemanager.googleapis.com",
    "run.googleapis.com",
    "artifactregistry.googleapis.com",
    "secretmanager.googleapis.com",
    "iam.googleapis.com",
    "monitoring.googleapis.com",
] as const;

export interface CloudRunSettings {
    readonly project: string;
    /** `cloudrun.region`, else `gcp:region`. */
    readonly region: string;
    /** @default "1" */
    readonly cpu: (typeof CLOUD_RUN_CPUS)[number];
    /** @default "512Mi" */
    readonly memory: (typeof CLOUD_RUN_MEMORY)[number];
    /**
     * Requests per instance.
     * @default what the app serves at once on `cpu` CPUs (providers/types.ts requestsInFlight): 8 at 1 CPU
     */
    readonly concurrency: number;
    /** @default 0 */
    readonly minInstances: number;
    /** @default 10 */
    readonly maxInstances: number;
    /** @default "all" */
    readonly ingress: keyof typeof INGRESS;
    /** Anyone may invoke it (the service's invoker IAM check is off). @default true */
    readonly public: boolean;
    /** @default true on stacks named prod*, false otherwise */
    readonly deletionProtection: boolean;
    /** Artifact Registry repository ID. @default `<app>-<stack>` */
    readonly repository: string;
    /**
     * The repository's import ID when an earlier `pulumi destroy` of this production stack left it in
     * the project (`prepare` looks it up): the next `up` adopts it instead of failing on its name.
     */
    readonly retainedRepository?: string;
}

function mebibytes(memory: string): number {
    return memory.endsWith("Gi") ? Number(memory.slice(0, -2)) * 1024 : Number(memory.slice(0, -2));
}

export class CloudRunService extends TargetComponent {
    readonly service: gcp.cloudrunv2.Service;

    constructor(name: string, args: TargetArgs<CloudRunSettings>, opts?: pulumi.ComponentResourceOptions) {
        super("onedigest:gcp:CloudRunService", name, {}, opts);
        const { app, image, settings: s, alerts } = args;
        const child = { parent: this };
        const project = s.project;

        // Left enabled on destroy: other workloads in the project may rely on them.
        const enable = (service: string, dependsOn: pulumi.Resource[] = []) =>
            new gcp.projects.Service(`${name}-api-${service.split(".")[0]}`, { project, service, disableOnDestroy: false }, { ...child, dependsOn });
        const [resourceManager, ...rest] = REQUIRED_APIS;
        const resourceManagerApi = enable(resourceManager);
        const apis = [resourceManagerApi, ...rest.map((service) => enable(service, [resourceManagerApi]))];
        // Nothing that uses an API is created before it answers: one enabled in this very `up` can
        // refuse calls for minutes (providers/gcpApisOperations.ts).
        const gcpConfig = new pulumi.Config("gcp");
        // A short-lived OAuth token of whoever runs Pulumi, never a key file.
        const token = gcp.organizations.getClientConfigOutput(child).accessToken;
        const apisReady = new ApisReady(
            `${name}-apis-ready`,
            {
                project,
                region: s.region,
                services: [...REQUIRED_APIS],
                endpoints: Object.fromEntries(
                    REQUIRED_APIS.flatMap((service) => {
                        const endpoint = gcpConfig.get(PROBES[service].configKey);
                        return endpoint ? [[service, endpoint]] : [];
                    }),
                ),
                accessToken: token,
            },
            { ...child, dependsOn: apis },
        );

        const repository = new gcp.artifactregistry.Repository(
            `${name}-repository`,
            {
                project,
                location: s.region,
                repositoryId: s.repository,
                format: "DOCKER",
                description: `Images of ${app.name}, deployed by digest`,
                dockerConfig: { immutableTags: true },
            },
            // A production registry (the rollback history) is left in the project by `pulumi destroy`,
            // and adopted by the next `up`.
            { ...child, dependsOn: [apisReady], retainOnDelete: app.production, ...(s.retainedRepository ? { import: s.retainedRepository } : {}) },
        );
        // The repository's own endpoint (`<location>-docker.pkg.dev/<project>/<id>`), as the API reports it.
        const registryUri = repository.registryUri;
        const pushed = image.push(
            `${name}-registry`,
            {
                server: registryUri.apply((uri) => uri.split("/")[0]),
                repository: pulumi.interpolate`${registryUri}/${app.name}`,
                // A short-lived OAuth token, never a key file.
                username: "oauth2accesstoken",
                password: pulumi.secret(token),
            },
            { ...child, dependsOn: [repository] },
        );

        const secret = new gcp.secretmanager.Secret(
            `${name}-secret-key`,
            { project, secretId: scopedName(app, LIMITS.gcpSecret, "secret-key"), replication: { auto: {} } },
            { ...child, dependsOn: [apisReady] },
        );
        const secretVersion = new gcp.secretmanager.SecretVersion(`${name}-secret-key-version`, { secret: secret.id, secretData: pulumi.secret(app.secretKey) }, child);

        // Its own identity: not the default compute account, which holds Editor on the project.
        const runtime = new gcp.serviceaccount.Account(
            `${name}-runtime`,
            { project, accountId: scopedName(app, LIMITS.serviceAccount, "run"), displayName: `${app.name} (${app.stack}) Cloud Run runtime` },
            { ...child, dependsOn: [apisReady] },
        );
        const secretAccess = new gcp.secretmanager.SecretIamMember(
            `${name}-secret-access`,
            { project, secretId: secret.secretId, role: "roles/secretmanager.secretAccessor", member: pulumi.interpolate`serviceAccount:${runtime.email}` },
            child,
        );

        const probe = { httpGet: { path: app.healthPath, port: app.port } };
        this.service = new gcp.cloudrunv2.Service(
            `${name}-service`,
            {
                project,
                name: scopedName(app, LIMITS.cloudRunService),
                location: s.region,
                description: app.description,
                ingress: INGRESS[s.ingress],
                deletionProtection: s.deletionProtection,
                // Public by switching the invoker check off, not by an allUsers binding: organizations
                // with domain-restricted sharing refuse that binding after the service exists.
                invokerIamDisabled: s.public,
                template: {
                    serviceAccount: runtime.email,
                    maxInstanceRequestConcurrency: s.concurrency,
                    timeout: "60s",
                    scaling: { minInstanceCount: s.minInstances, maxInstanceCount: s.maxInstances },
                    containers: [
                        {
                            image: pushed.ref,
                            ports: { containerPort: app.port },
                            envs: [
                                ...Object.entries(plainEnv(app, { port: false, proxies: 1, frontEndHttps: true }))
                                    .sort(([a], [b]) => a.localeCompare(b))
                                    .map(([envName, value]) => ({ name: envName, value })),
                                // The config digest it runs, reported by /healthcheck.
                                { name: "IMAGE_ID", value: image.imageId },
                                { name: "SECRET_KEY", valueSource: { secretKeyRef: { secret: secret.secretId, version: secretVersion.version } } },
                            ],
                            resources: { limits: { cpu: s.cpu, memory: s.memory }, startupCpuBoost: true, cpuIdle: true },
                            startupProbe: { ...probe, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 15 },
                            livenessProbe: { ...probe, periodSeconds: 15, timeoutSeconds: 3, failureThreshold: 3 },
                        },
                    ],
                },
            },
            { ...child, dependsOn: [apisReady, secretAccess, ...pushed.resources] },
        );
        const dashboard = this.monitor(name, app, s, alerts, apisReady);
        this.publish({ url: this.service.uri, image: pushed.ref, imageId: image.imageId, dashboard: dashboard.id.apply((id) => dashboardUrl(project, id)) });
    }

    /**
     * Down, failing, slow in Cloud Monitoring, to the alert email's channel: an uptime check of the
     * health path where the service is reachable from the internet (public, all ingress), alert
     * policies on it and on the service's request metrics, and the service's dashboard.
     */
    private monitor(name: string, app: AppSpec, s: CloudRunSettings, alerts: AlertSettings, apisReady: pulumi.Resource): gcp.monitoring.Dashboard {
        const child = { parent: this, dependsOn: [apisReady] };
        const project = s.project;
        const service = scopedName(app, LIMITS.cloudRunService);
        const what = `${app.name} (${app.stack}) on Cloud Run`;
        const channels = alerts.email
            ? [
                  new gcp.monitoring.NotificationChannel(
                      `${name}-alert-email`,
                      { project, type: "email", displayName: `${what}: alerts`, labels: { email_address: alerts.email }, enabled: true },
                      child,
                  ).name,
              ]
            : [];
        const policy = (role: string, displayName: string, condition: gcp.types.input.monitoring.AlertPolicyCondition, documentation: string) =>
            new gcp.monitoring.AlertPolicy(`${name}-${role}`, alertPolicy(project, `${what}: ${displayName}`, condition, channels, documentation), child);
        if (s.public && s.ingress === "all") {
            const host = this.service.uri.apply((uri) => new URL(uri).host);
            const uptime = new gcp.monitoring.UptimeCheckConfig(
                `${name}-uptime`,
                {
                    project,
                    displayName: `${what}: ${app.healthPath}`,
                    timeout: "10s",
                    period: "60s",
                    httpCheck: { path: app.healthPath, port: 443, useSsl: true, validateSsl: true, requestMethod: "GET", acceptedResponseStatusCodes: [{ statusClass: "STATUS_CLASS_2XX" }] },
                    monitoredResource: { type: "uptime_url", labels: { project_id: project, host } },
                },
                child,
            );
            policy("down", "down", uptimeAlertCondition(uptime.uptimeCheckId, host, alerts), `${app.healthPath} has not answered 2xx over HTTPS from more than one region for ${alerts.unhealthyMinutes} minute(s). See the service's logs and revisions in the Cloud Run console.`);
        }
        policy("errors", "failing", errorRatioCondition(project, service, alerts), `More than ${alerts.errorRatePercent}% of requests answered 5xx for ${alerts.unhealthyMinutes} minute(s). See the service's logs in the Cloud Run console.`);
        policy("latency", "slow", latencyCondition(project, service, alerts), `The 99th percentile of request latency was above ${alerts.latencyP99Ms} ms for ${alerts.unhealthyMinutes} minute(s). See the service's metrics in the Cloud Run console.`);
        return new gcp.monitoring.Dashboard(`${name}-dashboard`, { project, dashboardJson: dashboardJson({ project, service, displayName: what, alerts }) }, child);
    }
}

/**
 * How the Google provider says a lookup found nothing: a 404 (NOT_FOUND), or a 403 SERVICE_DISABLED
 * for an API never enabled in a fresh project, which cannot hold anything a destroy left.
 */
export const GCP_NOT_FOUND = /Error 404|NOT_FOUND|not found|SERVICE_DISABLED|has not been used in project/;

/** Cloud Run gives a container 10 s after SIGTERM; gunicorn's graceful timeout must fit inside. */
export const CLOUD_RUN_KILL_SECONDS = 10;

export const gcpCloudRun: TargetModule<CloudRunSettings> = {
    kind: "gcp-cloudrun",
    settingsKey: "cloudrun",
    platforms: ["linux/amd64"],
    parse(r, ctx) {
        r.rejectUnknown(["region", "cpu", "memory", "concurrency", "minInstances", "maxInstances", "ingress", "public", "deletionProtection", "repository"]);
        const project = ctx.providerConfig("gcp", "project") ?? "";
        if (!project) {
            r.reportKey("gcp:project", undefined, "the Google Cloud project ID to deploy into", "pulumi config set gcp:project my-project-id");
        }
        const region = r.string("region", "europe-west1", { pattern: /^[a-z]+-[a-z]+[0-9]+$/, allowed: "a Cloud Run region such as europe-west1" }) ?? ctx.providerConfig("gcp", "region") ?? "";
        if (!region) r.fail("region", undefined, "a Cloud Run region (or set gcp:region)", "europe-west1");
        const cpu = r.oneOf("cpu", CLOUD_RUN_CPUS, "1") ?? "1";
        const memory = r.oneOf("memory", CLOUD_RUN_MEMORY, "512Mi") ?? "512Mi";
        const mi = mebibytes(memory);
        if (r.has("memory") || r.has("cpu")) {
            if (mi < MIN_MEMORY_MI[cpu] || mi > MAX_MEMORY_MI[cpu]) {
                const fits = CLOUD_RUN_MEMORY.filter((m) => mebibytes(m) >= MIN_MEMORY_MI[cpu] && mebibytes(m) <= MAX_MEMORY_MI[cpu]);
                r.fail("memory", memory, `with cpu ${cpu}, one of ${fits.join(", ")}`, fits[0]);
            }
        }
        const minInstances = r.requiredInteger("minInstances", 0, 1000, 0);
        const maxInstances = r.requiredInteger("maxInstances", 1, 1000, 10);
        if (minInstances > maxInstances) {
            r.fail("minInstances", minInstances, `at most maxInstances (${maxInstances})`, maxInstances);
        }
        return {
            project,
            region,
            cpu,
            memory,
            // Beyond what the app serves at once, requests would queue in the instance instead of scaling out.
            concurrency: r.integer("concurrency", 1, 1000, 8) ?? requestsInFlight(Number(cpu), ctx.appEnv),
            minInstances,
            maxInstances,
            ingress: r.oneOf("ingress", Object.keys(INGRESS) as Array<keyof typeof INGRESS>, "all") ?? "all",
            public: r.boolean("public", true) ?? true,
            deletionProtection: r.boolean("deletionProtection", isProductionStack(ctx.stack)) ?? isProductionStack(ctx.stack),
            repository:
                r.string("repository", ctx.appName, { pattern: /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, allowed: "an Artifact Registry repository ID (a-z, 0-9, '-')" }) ??
                physicalName([ctx.appName, ctx.stack], LIMITS.artifactRepository),
        };
    },
    async prepare(s, ctx) {
        if (!ctx.app.production) return s;
        const found = await findOptional(
            `Artifact Registry repository ${s.repository}`,
            gcp.artifactregistry.getRepository({ project: s.project, location: s.region, repositoryId: s.repository }),
            GCP_NOT_FOUND,
        );
        return found ? { ...s, retainedRepository: `projects/${s.project}/locations/${s.region}/repositories/${s.repository}` } : s;
    },
    deploy: (name, args, opts) => new CloudRunService(name, args, opts),
};
