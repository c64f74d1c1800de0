/** `aws-beanstalk`: the Docker platform on Amazon Linux 2023, load-balanced, deployed by digest. */
import { createHash } from "crypto";

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { alarmActions, beanstalkDashboardBody, dashboardUrl, environmentHealthAlarm, errorRatioAlarm, latencyAlarm, loadBalancerDimension, sharedAlertTopic } from "./awsMonitoring";
import { LOG_RETENTION_DAYS, readHttps, TLS_POLICY, assumeRolePolicy, findRetained, requireAwsRegion, sharedEcr, sharedSecretKey, type Retained } from "./awsShared";
import { LIMITS } from "./names";
import { TargetComponent, plainEnv, scopedName } from "./shared";
import type { AppSpec, Platform, TargetArgs, TargetModule } from "./types";

/** AllAtOnce takes every instance down at once: allowed only when asked for by name. */
export const DEPLOYMENT_POLICIES = ["Rolling", "RollingWithAdditionalBatch", "Immutable", "TrafficSplitting", "AllAtOnce"] as const;
export const SOLUTION_STACK_REGEX = "^64bit Amazon Linux 2023 (.*) running Docker$";

export interface BeanstalkSettings {
    readonly region: string;
    /** @default "t3.small" */
    readonly instanceType: string;
    /** @default 1 */
    readonly minInstances: number;
    /** @default 2 */
    readonly maxInstances: number;
    /** @default "RollingWithAdditionalBatch" (keeps capacity; Rolling with one instance would take it out) */
    readonly deploymentPolicy: (typeof DEPLOYMENT_POLICIES)[number];
    readonly certificateArn?: string;
    readonly domain?: string;
    /** @default 30 */
    readonly logRetentionDays: number;
    /** Images kept in ECR (when this target creates the shared repository). @default 20 */
    readonly keepImages: number;
    /** What an earlier `pulumi destroy` of this production stack left to adopt (`prepare`). */
    readonly retained?: Retained;
}

export interface Setting {
    readonly namespace: string;
    readonly name: string;
    readonly value: string;
}

/**
 * Every option setting of the environment, as strings, sorted by namespace and name. Deterministic
 * on purpose: Beanstalk echoes settings back, and any difference in order or type shows as a
 * permanent diff (pulumi-aws #920, #878).
 */
export function environmentSettings(args: {
    settings: BeanstalkSettings;
    port: number;
    healthPath: string;
    env: Readonly<Record<string, string>>;
    secretArn: string;
    instanceProfile: string;
    serviceRole: string;
}): Setting[] {
    const { settings: s } = args;
    const list: Setting[] = [
        { namespace: "aws:elasticbeanstalk:environment", name: "EnvironmentType", value: "LoadBalanced" },
        { namespace: "aws:elasticbeanstalk:environment", name: "LoadBalancerType", value: "application" },
        { namespace: "aws:elasticbeanstalk:environment", name: "ServiceRole", value: args.serviceRole },
        { namespace: "aws:autoscaling:launchconfiguration", name: "IamInstanceProfile", value: args.instanceProfile },
        { namespace: "aws:autoscaling:launchconfiguration", name: "DisableIMDSv1", value: "true" },
        { namespace: "aws:ec2:instances", name: "InstanceTypes", value: s.instanceType },
        { namespace: "aws:autoscaling:asg", name: "MinSize", value: String(s.minInstances) },
        { namespace: "aws:autoscaling:asg", name: "MaxSize", value: String(s.maxInstances) },
        { namespace: "aws:elasticbeanstalk:environment:process:default", name: "HealthCheckPath", value: args.healthPath },
        { namespace: "aws:elasticbeanstalk:environment:process:default", name: "MatcherHTTPCode", value: "200" },
        { namespace: "aws:elasticbeanstalk:environment:process:default", name: "HealthCheckInterval", value: "15" },
        { namespace: "aws:elasticbeanstalk:environment:process:default", name: "DeregistrationDelay", value: "20" },
        { namespace: "aws:elasticbeanstalk:healthreporting:system", name: "SystemType", value: "enhanced" },
        { namespace: "aws:elasticbeanstalk:command", name: "DeploymentPolicy", value: s.deploymentPolicy },
        { namespace: "aws:elasticbeanstalk:command", name: "IgnoreHealthCheck", value: "false" },
        { namespace: "aws:elasticbeanstalk:managedactions", name: "ManagedActionsEnabled", value: "true" },
        { namespace: "aws:elasticbeanstalk:managedactions", name: "PreferredStartTime", value: "Sun:03:00" },
        { namespace: "aws:elasticbeanstalk:managedactions:platformupdate", name: "UpdateLevel", value: "minor" },
        { namespace: "aws:elasticbeanstalk:cloudwatch:logs", name: "StreamLogs", value: "true" },
        { namespace: "aws:elasticbeanstalk:cloudwatch:logs", name: "RetentionInDays", value: String(s.logRetentionDays) },
        // Read from Secrets Manager by the platform at deploy time; never an environment property.
        { namespace: "aws:elasticbeanstalk:application:environmentsecrets", name: "SECRET_KEY", value: args.secretArn },
        ...Object.entries({ ...args.env, PORT: String(args.port) }).map(([name, value]) => ({ namespace: "aws:elasticbeanstalk:application:environment", name, value })),
    ];
    if (s.deploymentPolicy === "Rolling" || s.deploymentPolicy === "RollingWithAdditionalBatch") {
        list.push({ namespace: "aws:elasticbeanstalk:command", name: "BatchSizeType", value: "Percentage" });
        list.push({ namespace: "aws:elasticbeanstalk:command", name: "BatchSize", value: "50" });
    }
    if (s.certificateArn) {
        list.push(
            { namespace: "aws:elbv2:listener:443", name: "ListenerEnabled", value: "true" },
            { namespace: "aws:elbv2:listener:443", name: "Protocol", value: "HTTPS" },
            { namespace: "aws:elbv2:listener:443", name: "SSLCertificateArns", value: s.certificateArn },
            { namespace: "aws:elbv2:listener:443", name: "SSLPolicy", value: TLS_POLICY },
        );
    }
    return list.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/**
 * The container's plain env on Beanstalk: two hops append to X-Forwarded-For (the ALB, then the
 * instance's nginx); only the ALB sets X-Forwarded-Proto, which nginx passes on unchanged. What
 * changes with each release (the image ID) is not here: it travels in the application version.
 */
export function beanstalkEnv(app: AppSpec, settings: Pick<BeanstalkSettings, "certificateArn" | "domain">): Record<string, string> {
    // With a certificate the app redirects HTTP to HTTPS on the domain (the ALB passes any Host on).
    const https = settings.certificateArn !== undefined;
    return plainEnv(app, { port: false, proxies: 2, schemeProxies: 1, https, canonicalHost: https ? settings.domain : undefined });
}

/** The v1 Dockerrun file naming the image by digest. */
export function dockerrun(image: string, port: number): string {
    return JSON.stringify({ AWSEBDockerrunVersion: "1", Image: { Name: image, Update: "true" }, Ports: [{ ContainerPort: String(port) }] }, null, 2);
}

/** Where the release's own settings go inside the source bundle. */
export const RELEASE_CONFIG = ".ebextensions/onedigest-release.config";

/**
 * The settings that change with each release, as a configuration file of the source bundle, so that
 * they change only with the application version. Beanstalk's UpdateEnvironment refuses a new version
 * label and option settings in one call (InvalidParameterCombination, AWS Elastic Beanstalk API
 * reference, UpdateEnvironment); a new image or a rotated key is then a version change alone. The
 * deployment of the version applies the file's option settings (AWS Elastic Beanstalk developer
 * guide, "Option settings" in configuration files) and, starting the new container, reads the
 * environment's secrets again. JSON is YAML, which configuration files are written in.
 */
export function releaseConfig(imageId: string, secretVersionId: string): string {
    const environment = "aws:elasticbeanstalk:application:environment";
    return JSON.stringify(
        {
            option_settings: [
                // The config digest it runs, reported by /healthcheck.
                { namespace: environment, option_name: "IMAGE_ID", value: imageId },
                // The SECRET_KEY version the release reads: a rotation is a new release.
                { namespace: environment, option_name: "SECRET_KEY_VERSION", value: secretVersionId },
            ],
        },
        null,
        2,
    );
}

/** A short, stable hash of a value, for version labels and object keys. */
function shortHash(value: string, length: number): string {
    return createHash("sha256").update(value).digest("hex").slice(0, length);
}

/** The version label of a release: the image's manifest digest and the key's version, both. */
export function versionLabel(appName: string, digest: string, secretVersionId: string): string {
    return `${appName}-${digest.replace(/^sha256:/, "").slice(0, 24)}-${shortHash(secretVersionId, 8)}`;
}

/** Graviton (arm64) families carry a `g` after the generation (t4g, m7gd, c7gn, im4gn); a1 is arm64 too. */
export function instanceArchitecture(instanceType: string): Platform {
    return /^(a1|[a-z]+\d+g[a-z]*)\./.test(instanceType) ? "linux/arm64" : "linux/amd64";
}

export class BeanstalkEnvironment extends TargetComponent {

    constructor(name: string, args: TargetArgs<BeanstalkSettings>, opts?: pulumi.ComponentResourceOptions) {
        super("onedigest:aws:BeanstalkEnvironment", name, {}, opts);
        const { app, image, settings: s, shared, alerts } = args;
        const child = { parent: this };
        const ecr = sharedEcr(shared, app, image, s.keepImages, s.retained);
        const secretKey = sharedSecretKey(shared, app, s.retained);

        const bucket = new aws.s3.Bucket(`${name}-bundles`, { bucketPrefix: `${scopedName(app, { max: LIMITS.bucketPrefix.max - 1 })}-`, forceDestroy: true }, child);
        new aws.s3.BucketPublicAccessBlock(
            `${name}-bundles-private`,
            { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            child,
        );
        new aws.s3.BucketOwnershipControls(`${name}-bundles-owner`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, child);
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-bundles-encryption`,
            { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
            child,
        );
        // One release: the image by digest, its ID and the key's version. The label and the object's
        // key name them, so a new image or a rotated key is a new object and a new application version.
        const label = pulumi.all([ecr.pushed.digest, secretKey.versionId]).apply(([digest, versionId]) => versionLabel(app.name, digest, versionId));
        const bundle = new aws.s3.BucketObjectv2(
            `${name}-bundle`,
            {
                bucket: bucket.id,
                key: pulumi.interpolate`${app.name}/${label}.zip`,
                source: pulumi
                    .all([ecr.pushed.ref, image.imageId, secretKey.versionId])
                    .apply(
                        ([ref, imageId, versionId]) =>
                            new pulumi.asset.AssetArchive({
                                "Dockerrun.aws.json": new pulumi.asset.StringAsset(dockerrun(ref, app.port)),
                                [RELEASE_CONFIG]: new pulumi.asset.StringAsset(releaseConfig(imageId, versionId)),
                            }),
                    ),
                contentType: "application/zip",
                serverSideEncryption: "AES256",
            },
            child,
        );

        const serviceRole = new aws.iam.Role(
            `${name}-service-role`,
            { name: scopedName(app, LIMITS.iamRole, "eb-service"), assumeRolePolicy: assumeRolePolicy("elasticbeanstalk.amazonaws.com", { StringEquals: { "sts:ExternalId": "elasticbeanstalk" } }) },
            child,
        );
        // The environment's instances and health reporting must not start before their grants exist.
        const grants: pulumi.Resource[] = [];
        for (const [i, policy] of ["service-role/AWSElasticBeanstalkEnhancedHealth", "AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy"].entries()) {
            grants.push(new aws.iam.RolePolicyAttachment(`${name}-service-policy-${i}`, { role: serviceRole.name, policyArn: `arn:aws:iam::aws:policy/${policy}` }, child));
        }
        const instanceRole = new aws.iam.Role(`${name}-instance-role`, { name: scopedName(app, LIMITS.iamRole, "eb-instance"), assumeRolePolicy: assumeRolePolicy("ec2.amazonaws.com") }, child);
        grants.push(new aws.iam.RolePolicyAttachment(`${name}-instance-webtier`, { role: instanceRole.name, policyArn: "arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier" }, child));
        grants.push(new aws.iam.RolePolicy(
            `${name}-instance-access`,
            {
                role: instanceRole.id,
                policy: pulumi.jsonStringify({
                    Version: "2012-10-17",
                    Statement: [
                        // Pull from this one repository only; the token call cannot be scoped to a resource.
                        { Effect: "Allow", Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], Resource: [ecr.repository.arn] },
                        { Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
                        { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretKey.secret.arn] },
                    ],
                }),
            },
            child,
        ));
        const instanceProfile = new aws.iam.InstanceProfile(`${name}-instance-profile`, { name: scopedName(app, LIMITS.instanceProfile, "eb-instance"), role: instanceRole.name }, child);

        const application = new aws.elasticbeanstalk.Application(
            `${name}-app`,
            { name: scopedName(app, LIMITS.beanstalkApplication), description: app.description, appversionLifecycle: { serviceRole: serviceRole.arn, maxCount: 50, deleteSourceFromS3: true } },
            child,
        );
        const version = new aws.elasticbeanstalk.ApplicationVersion(
            `${name}-version`,
            {
                application: application.name,
                name: label,
                bucket: bucket.id,
                key: bundle.key,
                description: pulumi.interpolate`${app.name} at ${ecr.pushed.ref}`,
            },
            child,
        );
        const stack = aws.elasticbeanstalk.getSolutionStackOutput({ mostRecent: true, nameRegex: SOLUTION_STACK_REGEX }, child);
        const environment = new aws.elasticbeanstalk.Environment(
            `${name}-env`,
            {
                name: scopedName(app, LIMITS.beanstalkEnvironment),
                application: application.name,
                solutionStackName: stack.name,
                version: version.name,
                tier: "WebServer",
                // Infrastructure only: nothing in here changes with a release (see releaseConfig).
                settings: pulumi
                    .all([secretKey.secret.arn, instanceProfile.name, serviceRole.arn])
                    .apply(([secretArn, profile, role]) =>
                        environmentSettings({ settings: s, port: app.port, healthPath: app.healthPath, env: beanstalkEnv(app, s), secretArn, instanceProfile: profile, serviceRole: role }),
                    ),
            },
            // A newer Amazon Linux 2023 Docker stack shows up by itself; moving to it is a managed update, not a diff.
            // A fixed name cannot be taken by a replacement while the old environment holds it.
            { ...child, dependsOn: grants, ignoreChanges: ["solutionStackName"], deleteBeforeReplace: true },
        );
        // Down: the environment's enhanced health; failing and slow: at the load balancer Beanstalk
        // made for it (the environment reports it by ARN).
        const topic = sharedAlertTopic(shared, app, alerts);
        const loadBalancer = environment.loadBalancers.apply((lbs) => loadBalancerDimension((lbs ?? [])[0] ?? ""));
        const what = `${app.name} (${app.stack}) on Beanstalk`;
        const alarm = (role: string, make: (alarmName: string) => aws.cloudwatch.MetricAlarmArgs) =>
            new aws.cloudwatch.MetricAlarm(`${name}-${role}`, { ...make(scopedName(app, LIMITS.alarm, "beanstalk", role)), ...alarmActions(topic) }, child);
        const alarms = [
            alarm("health", (n) => environmentHealthAlarm(n, what, environment.name, alerts)),
            alarm("errors", (n) => errorRatioAlarm(n, what, { LoadBalancer: loadBalancer }, alerts)),
            alarm("latency", (n) => latencyAlarm(n, what, { LoadBalancer: loadBalancer }, alerts)),
        ];
        const dashboard = new aws.cloudwatch.Dashboard(
            `${name}-dashboard`,
            {
                dashboardName: scopedName(app, LIMITS.dashboard, "beanstalk"),
                dashboardBody: pulumi
                    .all([loadBalancer, environment.name, environment.autoscalingGroups.apply((groups) => (groups ?? [])[0] ?? ""), ...alarms.map((a) => a.arn)])
                    .apply(([lb, environmentName, autoScalingGroup, ...alarmArns]) =>
                        beanstalkDashboardBody({ region: s.region, loadBalancer: lb, environment: environmentName, autoScalingGroup, alarmArns, alerts }),
                    ),
            },
            child,
        );

        const https = s.certificateArn !== undefined;
        const host = s.domain ? pulumi.output(s.domain) : environment.cname;
        // Until the domain points at the environment, its own CNAME serves it (origin).
        this.publish({
            url: pulumi.interpolate`${https ? "https" : "http"}://${host}`,
            image: ecr.pushed.ref,
            imageId: image.imageId,
            ...(s.domain ? { origin: environment.cname, dnsRecord: pulumi.interpolate`${s.domain} CNAME ${environment.cname}` } : {}),
            dashboard: dashboard.dashboardName.apply((dashboardName) => dashboardUrl(s.region, dashboardName)),
        });
    }
}

export const awsBeanstalk: TargetModule<BeanstalkSettings> = {
    kind: "aws-beanstalk",
    settingsKey: "beanstalk",
    platforms: ["linux/amd64", "linux/arm64"],
    parse(r, ctx) {
        r.rejectUnknown(["instanceType", "minInstances", "maxInstances", "deploymentPolicy", "certificateArn", "domain", "logRetentionDays", "keepImages"]);
        const region = requireAwsRegion(r, ctx.providerConfig("aws", "region"));
        const minInstances = r.requiredInteger("minInstances", 1, 100, 1);
        const maxInstances = r.requiredInteger("maxInstances", 1, 100, 2);
        if (minInstances > maxInstances) r.fail("minInstances", minInstances, `at most maxInstances (${maxInstances})`, maxInstances);
        const instanceType = r.requiredString("instanceType", "t3.small", { pattern: /^[a-z][a-z0-9-]*\.[a-z0-9]+$/, allowed: "an EC2 instance type such as t3.small" });
        const arch = instanceArchitecture(instanceType);
        if (instanceType && arch !== ctx.platform) {
            r.fail("instanceType", instanceType, `an instance type that runs ${ctx.platform} images (${ctx.platform === "linux/arm64" ? "a Graviton type such as t4g.small" : "an x86 type such as t3.small"}), or set onedigest:image.platform to ${arch}`, ctx.platform === "linux/arm64" ? "t4g.small" : "t3.small");
        }
        const deploymentPolicy = r.oneOf("deploymentPolicy", DEPLOYMENT_POLICIES, "RollingWithAdditionalBatch") ?? "RollingWithAdditionalBatch";
        if (deploymentPolicy === "Rolling" && minInstances < 2) {
            r.fail("deploymentPolicy", deploymentPolicy, `a policy that keeps capacity while deploying with minInstances ${minInstances} (Rolling takes the only instance out): RollingWithAdditionalBatch or Immutable`, "RollingWithAdditionalBatch");
        }
        return {
            region,
            instanceType,
            minInstances,
            maxInstances,
            deploymentPolicy,
            ...readHttps(r, ctx),
            logRetentionDays: r.numberOneOf("logRetentionDays", LOG_RETENTION_DAYS, 30) ?? 30,
            keepImages: r.requiredInteger("keepImages", 1, 1000, 20),
        };
    },
    async prepare(s, ctx) {
        return { ...s, retained: await findRetained(ctx.app) };
    },
    deploy: (name, args, opts) => new BeanstalkEnvironment(name, args, opts),
};
