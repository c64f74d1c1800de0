/** `aws-ecs`: Fargate behind an ALB, with the defaults a careful AWS team sets. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { alarmActions, dashboardUrl, ecsDashboardBody, errorRatioAlarm, latencyAlarm, sharedAlertTopic, unhealthyHostsAlarm } from "./awsMonitoring";
import { LOG_RETENTION_DAYS, readHttps, TLS_POLICY, assumeRolePolicy, findRetained, requireAwsRegion, sharedEcr, sharedSecretKey, type Retained } from "./awsShared";
import { LIMITS, physicalName } from "./names";
import { TargetComponent, plainEnv, scopedName } from "./shared";
import { GRACEFUL_TIMEOUT_SECONDS, PLATFORMS, type TargetArgs, type TargetModule } from "./types";
import { ConfigError, PROJECT, setCommand } from "../validate";

/** Valid Fargate task sizes: cpu units → allowed memory (MiB). */
export const FARGATE_SIZES: Readonly<Record<number, readonly number[]>> = {
    256: [512, 1024, 2048],
    512: range(1024, 4096, 1024),
    1024: range(2048, 8192, 1024),
    2048: range(4096, 16384, 1024),
    4096: range(8192, 30720, 1024),
    8192: range(16384, 61440, 4096),
    16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
    const out: number[] = [];
    for (let v = from; v <= to; v += step) out.push(v);
    return out;
}

export interface EcsSettings {
    readonly region: string;
    /** Fargate cpu units. @default 256 */
    readonly cpu: number;
    /** MiB, valid for `cpu`. @default 512 */
    readonly memory: number;
    /** @default 2 */
    readonly desiredCount: number;
    /** @default 2 */
    readonly minCount: number;
    /** @default 4 */
    readonly maxCount: number;
    /** Average CPU the autoscaler aims for. @default 60 */
    readonly cpuTargetPercent: number;
    /** Existing VPC; the default VPC when unset. */
    readonly vpcId?: string;
    /** Public subnets for the ALB (and the tasks unless `taskSubnetIds`). */
    readonly subnetIds?: readonly string[];
    /** Private subnets for the tasks (they then get no public IP; they need a NAT or VPC endpoints). */
    readonly taskSubnetIds?: readonly string[];
    /** The network the service runs in, as `prepare` found it (the configured one, or the default VPC's). */
    readonly network?: { readonly vpcId: string; readonly subnetIds: readonly string[] };
    /** What an earlier `pulumi destroy` of this production stack left to adopt (`prepare`). */
    readonly retained?: Retained;
    /** HTTPS on 443 with HTTP→HTTPS redirect when set. */
    readonly certificateArn?: string;
    /** Public hostname (DNS is yours to point at the ALB). */
    readonly domain?: string;
    /** @default 30 */
    readonly logRetentionDays: number;
    /** Images kept in ECR. @default 20 */
    readonly keepImages: number;
    /** @default 30 */
    readonly healthCheckGraceSeconds: number;
    /** Managed policy ARNs for the task role; empty by default. */
    readonly taskPolicyArns: readonly string[];
}

/** The container definition, as a pure function so tests can check it without mocks. */
export function containerDefinitions(args: {
    name: string;
    image: string;
    port: number;
    env: Readonly<Record<string, string>>;
    secretArn: string;
    /** The secret's version: pinned, so a rotation is a new task definition revision that rolls out. */
    secretVersionId: string;
    logGroup: string;
    region: string;
}): string {
    return JSON.stringify([
        {
            name: args.name,
            image: args.image,
            essential: true,
            portMappings: [{ containerPort: args.port, protocol: "tcp" }],
            environment: Object.keys(args.env)
                .sort()
                .map((k) => ({ name: k, value: args.env[k] })),
            // Injected by the ECS agent from Secrets Manager at start; never in `environment`. By
            // version (`<arn>:<json-key>:<version-stage>:<version-id>`, AWS ECS developer guide, "Pass
            // Secrets Manager secrets through Amazon ECS environment variables"): a task reads its key once.
            secrets: [{ name: "SECRET_KEY", valueFrom: `${args.secretArn}:::${args.secretVersionId}` }],
            logConfiguration: {
                logDriver: "awslogs",
                options: { "awslogs-group": args.logGroup, "awslogs-region": args.region, "awslogs-stream-prefix": args.name },
            },
            // Longer than gunicorn's graceful timeout, so in-flight requests finish before SIGKILL.
            stopTimeout: GRACEFUL_TIMEOUT_SECONDS + 7,
            privileged: false,
            readonlyRootFilesystem: true,
            user: "10001:10001",
            mountPoints: [{ sourceVolume: "tmp", containerPath: "/tmp", readOnly: false }],
        },
    ]);
}

const SUBNETS_EXAMPLE = ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"];

/** Stops the deployment with the settings that fix a missing network, as a config error. */
function noNetwork(why: string): never {
    throw new ConfigError([
        {
            key: `${PROJECT}:ecs.vpcId`,
            value: undefined,
            allowed: `a VPC with public subnets in two availability zones (${why})`,
            fix: `${setCommand(`${PROJECT}:ecs.vpcId`, "vpc-0123456789abcdef0")} && ${setCommand(`${PROJECT}:ecs.subnetIds`, SUBNETS_EXAMPLE)}`,
        },
    ]);
}

/**
 * The network to deploy into, looked up before any resource so that a missing one is a clear message,
 * not a provider error: the configured VPC once AWS confirms its subnets span two availability zones,
 * else the region's default VPC (a filter that may match nothing, not a lookup that fails) and its
 * default subnets, one per zone.
 */
export async function findNetwork(s: Pick<EcsSettings, "region" | "vpcId" | "subnetIds">): Promise<{ vpcId: string; subnetIds: readonly string[] }> {
    if (s.vpcId && s.subnetIds) {
        const zones = await Promise.all(s.subnetIds.map(async (id) => (await aws.ec2.getSubnet({ id })).availabilityZone));
        if (new Set(zones).size < 2) {
            throw new ConfigError([
                {
                    key: `${PROJECT}:ecs.subnetIds`,
                    value: s.subnetIds,
                    allowed: `subnets in at least two availability zones (an ALB needs two; these are all in ${zones[0]})`,
                    fix: setCommand(`${PROJECT}:ecs.subnetIds`, SUBNETS_EXAMPLE),
                },
            ]);
        }
        return { vpcId: s.vpcId, subnetIds: s.subnetIds };
    }
    const vpcId = (await aws.ec2.getVpcs({ filters: [{ name: "is-default", values: ["true"] }] })).ids[0] ?? noNetwork(`this account has no default VPC in ${s.region}`);
    const subnets = (await aws.ec2.getSubnets({ filters: [{ name: "vpc-id", values: [vpcId] }, { name: "default-for-az", values: ["true"] }] })).ids;
    // One default subnet per zone: two of them are two zones.
    if (subnets.length < 2) noNetwork(`the default VPC in ${s.region} has ${subnets.length} default subnet(s); an ALB needs two zones`);
    return { vpcId, subnetIds: subnets };
}

export class EcsService extends TargetComponent {

    constructor(name: string, args: TargetArgs<EcsSettings>, opts?: pulumi.ComponentResourceOptions) {
        super("onedigest:aws:EcsService", name, {}, opts);
        const { app, image, settings: s, shared, alerts } = args;
        const child = { parent: this };
        const https = s.certificateArn !== undefined;

        const ecr = sharedEcr(shared, app, image, s.keepImages, s.retained);
        const secretKey = sharedSecretKey(shared, app, s.retained);

        if (!s.network) throw new Error("aws-ecs: deploy before prepare (the network is looked up first)");
        const { vpcId } = s.network;
        const albSubnets = [...s.network.subnetIds];
        const taskSubnets = (s.taskSubnetIds && [...s.taskSubnetIds]) ?? albSubnets;

        const albSg = new aws.ec2.SecurityGroup(`${name}-alb-sg`, { vpcId, description: `${app.name} load balancer` }, child);
        const taskSg = new aws.ec2.SecurityGroup(`${name}-task-sg`, { vpcId, description: `${app.name} tasks: only the load balancer may connect` }, child);
        for (const port of https ? [80, 443] : [80]) {
            for (const [family, cidr] of [["v4", { cidrIpv4: "0.0.0.0/0" }], ["v6", { cidrIpv6: "::/0" }]] as const) {
                new aws.vpc.SecurityGroupIngressRule(
                    `${name}-alb-in-${port}-${family}`,
                    { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: port, toPort: port, ...cidr, description: "public HTTP(S)" },
                    child,
                );
            }
        }
        // The ALB talks only to the tasks, and the tasks accept only the ALB.
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-alb-out`,
            { securityGroupId: albSg.id, ipProtocol: "tcp", fromPort: app.port, toPort: app.port, referencedSecurityGroupId: taskSg.id, description: "to the tasks" },
            child,
        );
        new aws.vpc.SecurityGroupIngressRule(
            `${name}-task-in`,
            { securityGroupId: taskSg.id, ipProtocol: "tcp", fromPort: app.port, toPort: app.port, referencedSecurityGroupId: albSg.id, description: "from the load balancer only" },
            child,
        );
        // HTTPS out only: ECR, Secrets Manager and CloudWatch Logs.
        new aws.vpc.SecurityGroupEgressRule(
            `${name}-task-out`,
            { securityGroupId: taskSg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "AWS APIs over HTTPS" },
            child,
        );

        const alb = new aws.lb.LoadBalancer(
            `${name}-alb`,
            {
                // AWS reserves names starting with "internal-".
                name: scopedName(app, LIMITS.loadBalancer).replace(/^internal-/, "lb-internal-"),
                loadBalancerType: "application",
                internal: false,
                securityGroups: [albSg.id],
                subnets: albSubnets,
                dropInvalidHeaderFields: true,
                idleTimeout: 60,
            },
            child,
        );
        const targetGroup = new aws.lb.TargetGroup(
            `${name}-tg`,
            {
                // Names the settings that force a new target group, so its replacement is created
                // under a new name before the old one goes.
                name: physicalName([app.name, app.stack], { ...LIMITS.targetGroup, unique: `${app.port}/HTTP/ip/${s.vpcId ?? "default"}` }),
                vpcId,
                port: app.port,
                protocol: "HTTP",
                targetType: "ip",
                // The app stops in about 6 s; no need for the 300 s default.
                deregistrationDelay: 15,
                healthCheck: { path: app.healthPath, matcher: "200", interval: 10, timeout: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
            },
            child,
        );
        const forward = [{ type: "forward", targetGroupArn: targetGroup.arn }];
        const listeners = https
            ? [
                  new aws.lb.Listener(
                      `${name}-https`,
                      { loadBalancerArn: alb.arn, port: 443, protocol: "HTTPS", sslPolicy: TLS_POLICY, certificateArn: s.certificateArn, defaultActions: forward },
                      child,
                  ),
                  new aws.lb.Listener(
                      `${name}-http`,
                      {
                          loadBalancerArn: alb.arn,
                          port: 80,
                          protocol: "HTTP",
                          defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
                      },
                      child,
                  ),
              ]
            : [new aws.lb.Listener(`${name}-http`, { loadBalancerArn: alb.arn, port: 80, protocol: "HTTP", defaultActions: forward }, child)];

        const cluster = new aws.ecs.Cluster(`${name}-cluster`, { name: scopedName(app, LIMITS.ecs), settings: [{ name: "containerInsights", value: "enabled" }] }, child);
        const logGroup = new aws.cloudwatch.LogGroup(`${name}-logs`, { name: `/onedigest/${scopedName(app, LIMITS.logGroup)}`, retentionInDays: s.logRetentionDays }, child);

        const executionRole = new aws.iam.Role(`${name}-execution-role`, { name: scopedName(app, LIMITS.iamRole, "ecs-execution"), assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") }, child);
        // Tasks must not start before their roles can do what they need (ResourceInitializationError
        // otherwise): everything below that runs a task waits for every grant.
        const grants: pulumi.Resource[] = [];
        grants.push(new aws.iam.RolePolicyAttachment(
            `${name}-execution-policy`,
            { role: executionRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy" },
            child,
        ));
        grants.push(new aws.iam.RolePolicy(
            `${name}-execution-secret`,
            {
                role: executionRole.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [{ Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretKey.secret.arn] }],
                }),
            },
            child,
        ));
        const taskRole = new aws.iam.Role(`${name}-task-role`, { name: scopedName(app, LIMITS.iamRole, "ecs-task"), assumeRolePolicy: assumeRolePolicy("ecs-tasks.amazonaws.com") }, child);
        s.taskPolicyArns.forEach((policyArn, i) => grants.push(new aws.iam.RolePolicyAttachment(`${name}-task-policy-${i}`, { role: taskRole.name, policyArn }, child)));

        const taskDefinition = new aws.ecs.TaskDefinition(
            `${name}-task`,
            {
                family: scopedName(app, LIMITS.ecs),
                cpu: String(s.cpu),
                memory: String(s.memory),
                networkMode: "awsvpc",
                requiresCompatibilities: ["FARGATE"],
                runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: image.platform === "linux/arm64" ? "ARM64" : "X86_64" },
                executionRoleArn: executionRole.arn,
                taskRoleArn: taskRole.arn,
                volumes: [{ name: "tmp" }],
                containerDefinitions: pulumi
                    .all([ecr.pushed.ref, secretKey.secret.arn, secretKey.versionId, logGroup.name, image.imageId, alb.dnsName])
                    .apply(([ref, secretArn, secretVersionId, group, imageId, albHost]) =>
                        containerDefinitions({
                            name: "app",
                            image: ref,
                            port: app.port,
                            // The ALB passes any Host on: redirects go to the domain (or the ALB's own name).
                            env: plainEnv(app, { port: true, proxies: 1, imageId, https, canonicalHost: s.domain ?? albHost }),
                            secretArn,
                            secretVersionId,
                            logGroup: group,
                            region: s.region,
                        }),
                    ),
            },
            { ...child, dependsOn: grants },
        );

        // Down, failing, slow: the three signals, at the target group. A deployment during which
        // any of them alarms rolls back (the service's deployment alarms below).
        const topic = sharedAlertTopic(shared, app, alerts);
        const dimensions = { LoadBalancer: alb.arnSuffix, TargetGroup: targetGroup.arnSuffix };
        const what = `${app.name} (${app.stack}) on ECS`;
        const alarm = (role: string, make: typeof errorRatioAlarm) =>
            new aws.cloudwatch.MetricAlarm(`${name}-${role}`, { ...make(scopedName(app, LIMITS.alarm, "ecs", role), what, dimensions, alerts), ...alarmActions(topic) }, child);
        const alarms = [alarm("unhealthy", unhealthyHostsAlarm), alarm("errors", errorRatioAlarm), alarm("latency", latencyAlarm)];

        const service = new aws.ecs.Service(
            `${name}-service`,
            {
                name: scopedName(app, LIMITS.ecs),
                cluster: cluster.arn,
                taskDefinition: taskDefinition.arn,
                launchType: "FARGATE",
                desiredCount: s.desiredCount,
                networkConfiguration: { subnets: taskSubnets, securityGroups: [taskSg.id], assignPublicIp: s.taskSubnetIds === undefined },
                loadBalancers: [{ targetGroupArn: targetGroup.arn, containerName: "app", containerPort: app.port }],
                deploymentCircuitBreaker: { enable: true, rollback: true },
                alarms: { alarmNames: alarms.map((a) => a.name), enable: true, rollback: true },
                deploymentMinimumHealthyPercent: 100,
                deploymentMaximumPercent: 200,
                healthCheckGracePeriodSeconds: s.healthCheckGraceSeconds,
                waitForSteadyState: true,
                propagateTags: "SERVICE",
                enableEcsManagedTags: true,
            },
            // The autoscaler owns the running count after the first deployment.
            { ...child, dependsOn: [...listeners, ...ecr.pushed.resources, ...grants], ignoreChanges: ["desiredCount"] },
        );

        const scaling = new aws.appautoscaling.Target(
            `${name}-scaling`,
            {
                serviceNamespace: "ecs",
                scalableDimension: "ecs:service:DesiredCount",
                resourceId: pulumi.interpolate`service/${cluster.name}/${service.name}`,
                minCapacity: s.minCount,
                maxCapacity: s.maxCount,
            },
            child,
        );
        new aws.appautoscaling.Policy(
            `${name}-cpu`,
            {
                policyType: "TargetTrackingScaling",
                serviceNamespace: scaling.serviceNamespace,
                scalableDimension: scaling.scalableDimension,
                resourceId: scaling.resourceId,
                targetTrackingScalingPolicyConfiguration: {
                    predefinedMetricSpecification: { predefinedMetricType: "ECSServiceAverageCPUUtilization" },
                    targetValue: s.cpuTargetPercent,
                    scaleInCooldown: 120,
                    scaleOutCooldown: 60,
                },
            },
            child,
        );

        const dashboard = new aws.cloudwatch.Dashboard(
            `${name}-dashboard`,
            {
                dashboardName: scopedName(app, LIMITS.dashboard, "ecs"),
                dashboardBody: pulumi
                    .all([alb.arnSuffix, targetGroup.arnSuffix, cluster.name, service.name, ...alarms.map((a) => a.arn)])
                    .apply(([loadBalancer, tg, clusterName, serviceName, ...alarmArns]) =>
                        ecsDashboardBody({ region: s.region, loadBalancer, targetGroup: tg, cluster: clusterName, service: serviceName, alarmArns, alerts }),
                    ),
            },
            child,
        );

        const host = s.domain ? pulumi.output(s.domain) : alb.dnsName;
        // The domain's DNS is the user's to point at the ALB this very `up` created; until then the
        // ALB's own name serves it (origin), and dnsRecord says what to create.
        this.publish({
            url: pulumi.interpolate`${https ? "https" : "http"}://${host}`,
            image: ecr.pushed.ref,
            imageId: image.imageId,
            ...(s.domain ? { origin: alb.dnsName, dnsRecord: pulumi.interpolate`${s.domain} CNAME ${alb.dnsName}` } : {}),
            dashboard: dashboard.dashboardName.apply((dashboardName) => dashboardUrl(s.region, dashboardName)),
        });
    }
}

export const awsEcs: TargetModule<EcsSettings> = {
    kind: "aws-ecs",
    settingsKey: "ecs",
    platforms: PLATFORMS,
    parse(r, ctx) {
        r.rejectUnknown([
            "cpu",
            "memory",
            "desiredCount",
            "minCount",
            "maxCount",
            "cpuTargetPercent",
            "vpcId",
            "subnetIds",
            "taskSubnetIds",
            "certificateArn",
            "domain",
            "logRetentionDays",
            "keepImages",
            "healthCheckGraceSeconds",
            "taskPolicyArns",
        ]);
        const region = requireAwsRegion(r, ctx.providerConfig("aws", "region"));
        const cpus = Object.keys(FARGATE_SIZES).map(Number);
        let cpu = r.requiredInteger("cpu", 256, 16384, 256);
        if (!cpus.includes(cpu)) {
            r.fail("cpu", cpu, `a Fargate cpu value: one of ${cpus.join(", ")}`, 256);
            cpu = 256;
        }
        const memory = r.requiredInteger("memory", 512, 122880, 512);
        if (cpus.includes(cpu) && !FARGATE_SIZES[cpu].includes(memory)) {
            r.fail("memory", memory, `a Fargate memory size for cpu ${cpu}: one of ${FARGATE_SIZES[cpu].join(", ")}`, FARGATE_SIZES[cpu][0]);
        }
        const minCount = r.requiredInteger("minCount", 1, 1000, 2);
        const maxCount = r.requiredInteger("maxCount", 1, 1000, 4);
        if (minCount > maxCount) r.fail("minCount", minCount, `at most maxCount (${maxCount})`, maxCount);
        const desiredCount = r.requiredInteger("desiredCount", 1, 1000, 2);
        if (minCount <= maxCount && (desiredCount < minCount || desiredCount > maxCount)) {
            r.fail("desiredCount", desiredCount, `from minCount to maxCount (${minCount}-${maxCount})`, minCount);
        }
        const subnet = { pattern: /^subnet-[0-9a-f]{8,17}$/, allowed: "a subnet ID (subnet-…)" };
        const vpcId = r.string("vpcId", "vpc-0123456789abcdef0", { pattern: /^vpc-[0-9a-f]{8,17}$/, allowed: "a VPC ID (vpc-…)" });
        const subnetIds = r.stringList("subnetIds", "subnet-0123456789abcdef0", subnet);
        if (r.has("vpcId") && !r.has("subnetIds")) {
            r.fail("subnetIds", undefined, "the ALB's subnets in that VPC, set together with vpcId", ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]);
        } else if (r.has("subnetIds") && !r.has("vpcId")) {
            r.fail("vpcId", undefined, "the VPC of those subnets, set together with subnetIds", "vpc-0123456789abcdef0");
        }
        if (subnetIds && subnetIds.length < 2) r.fail("subnetIds", subnetIds, "at least two subnets in different availability zones (an ALB needs two)", ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]);
        const policyArn = { pattern: /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+$/, allowed: "an IAM policy ARN" };
        return {
            region,
            cpu,
            memory,
            desiredCount,
            minCount,
            maxCount,
            cpuTargetPercent: r.requiredInteger("cpuTargetPercent", 10, 95, 60),
            vpcId,
            subnetIds,
            taskSubnetIds: r.stringList("taskSubnetIds", "subnet-0123456789abcdef0", subnet),
            ...readHttps(r, ctx),
            logRetentionDays: r.numberOneOf("logRetentionDays", LOG_RETENTION_DAYS, 30) ?? 30,
            keepImages: r.requiredInteger("keepImages", 1, 1000, 20),
            healthCheckGraceSeconds: r.requiredInteger("healthCheckGraceSeconds", 0, 600, 30),
            taskPolicyArns: r.stringList("taskPolicyArns", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", policyArn) ?? [],
        };
    },
    async prepare(s, ctx) {
        const [network, retained] = await Promise.all([findNetwork(s), findRetained(ctx.app)]);
        return { ...s, network, retained };
    },
    deploy: (name, args, opts) => new EcsService(name, args, opts),
};

