/**
 * What the AWS targets share in one stack: one ECR repository with one push of the image, and one
 * Secrets Manager secret holding SECRET_KEY. Created once, whichever AWS target asks first.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

import { LIMITS } from "./names";
import { findOptional, scopedName } from "./shared";
import type { AppSpec, ImageArtifact, ParseContext, PushedImage, SharedResources } from "./types";
import { PROJECT, type Reader } from "../validate";

export const CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
export const CERTIFICATE_RULE = { pattern: CERTIFICATE_ARN, allowed: "an ACM certificate ARN: arn:aws:acm:<region>:<account>:certificate/<uuid>" };
export const DOMAIN_RULE = {
    pattern: /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    allowed: "a lowercase DNS name such as app.example.com",
};
/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** TLS 1.3 with 1.2 fallback: the ALB policy AWS recommends for new listeners. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/**
 * What an earlier `pulumi destroy` of a production stack left in the account, found by name: the
 * ECR repository (its rollback history) and the SECRET_KEY secret. The next `up` adopts them
 * (`import`) instead of failing on names they still hold.
 */
export interface Retained {
    /** The repository's name, as ECR imports it. */
    readonly ecrRepository?: string;
    /** The secret's ARN, as Secrets Manager imports it. */
    readonly secretArn?: string;
}

/**
 * How the AWS provider says a lookup found nothing: the SDK's retry.NotFoundError ("couldn't find
 * resource") or the API's own *NotFoundException.
 */
export const AWS_NOT_FOUND = /couldn't find resource|NotFoundException/;

/** Looks the retained resources up; outside production nothing is retained, so nothing is asked. */
export async function findRetained(app: Pick<AppSpec, "name" | "stack" | "production">): Promise<Retained> {
    if (!app.production) return {};
    const repositoryName = scopedName(app, LIMITS.ecrRepository);
    const secretName = scopedName(app, LIMITS.awsSecret, "secret-key");
    const [repository, secret] = await Promise.all([
        findOptional(`ECR repository ${repositoryName}`, aws.ecr.getRepository({ name: repositoryName }), AWS_NOT_FOUND),
        findOptional(`secret ${secretName}`, aws.secretsmanager.getSecret({ name: secretName }), AWS_NOT_FOUND),
    ]);
    return { ...(repository ? { ecrRepository: repository.name } : {}), ...(secret ? { secretArn: secret.arn } : {}) };
}

export interface EcrRepository {
    readonly repository: aws.ecr.Repository;
    readonly pushed: PushedImage;
}

export class EcrImage extends pulumi.ComponentResource implements EcrRepository {
    readonly repository: aws.ecr.Repository;
    readonly pushed: PushedImage;

    constructor(name: string, args: { app: AppSpec; image: ImageArtifact; keepImages: number; retained?: string }, opts?: pulumi.ComponentResourceOptions) {
        super("onedigest:aws:EcrImage", name, {}, opts);
        const child = { parent: this };
        this.repository = new aws.ecr.Repository(
            `${name}-repository`,
            {
                name: scopedName(args.app, LIMITS.ecrRepository),
                // A tag can never be moved to other bits; deployments use digests anyway.
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "AES256" }],
                // `pulumi destroy` succeeds either way: outside production it deletes the images with
                // the repository; a production repository (rollback history) is left in the account.
                forceDelete: !args.app.production,
            },
            { ...child, retainOnDelete: args.app.production, ...(args.retained ? { import: args.retained } : {}) },
        );
        new aws.ecr.LifecyclePolicy(
            `${name}-lifecycle`,
            {
                repository: this.repository.name,
                policy: JSON.stringify({
                    rules: [
                        {
                            rulePriority: 1,
                            description: `keep the last ${args.keepImages} images (rollback by digest stays possible)`,
                            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: args.keepImages },
                            action: { type: "expire" },
                        },
                    ],
                }),
            },
            child,
        );
        const token = aws.ecr.getAuthorizationTokenOutput({ registryId: this.repository.registryId }, child);
        this.pushed = args.image.push(
            `${name}-registry`,
            {
                server: token.proxyEndpoint.apply((endpoint) => endpoint.replace(/^https:\/\//, "")),
                repository: this.repository.repositoryUrl,
                username: token.userName,
                password: pulumi.secret(token.password),
            },
            { ...child, dependsOn: [this.repository] },
        );
        this.registerOutputs({ repositoryUrl: this.repository.repositoryUrl, image: this.pushed.ref });
    }
}

/** The one ECR repository and push of this stack. */
export function sharedEcr(shared: SharedResources, app: AppSpec, image: ImageArtifact, keepImages: number, retained: Retained = {}): EcrImage {
    return shared.once("aws:ecr", () => new EcrImage(`${app.name}-ecr`, { app, image, keepImages, retained: retained.ecrRepository }));
}

/** SECRET_KEY in Secrets Manager, read by the platforms at start; never in task or environment JSON. */
export class SecretKey extends pulumi.ComponentResource {
    readonly secret: aws.secretsmanager.Secret;
    /**
     * The ID of the secret's current version. Targets reference it, so a rotated key (a new version)
     * changes what they deploy and rolls out: tasks and instances read a key only when they start.
     */
    readonly versionId: pulumi.Output<string>;

    constructor(name: string, args: { app: AppSpec; retained?: string }, opts?: pulumi.ComponentResourceOptions) {
        super("onedigest:aws:SecretKey", name, {}, opts);
        this.secret = new aws.secretsmanager.Secret(
            `${name}-secret`,
            {
                name: scopedName(args.app, LIMITS.awsSecret, "secret-key"),
                description: `SECRET_KEY of ${args.app.name} (${args.app.stack})`,
                // Outside production a destroyed secret is gone at once, so its name is free again.
                // A production secret outlives `pulumi destroy` (the next `up` adopts it), and one
                // deleted otherwise can be restored for 7 days (its name stays taken meanwhile).
                recoveryWindowInDays: args.app.production ? 7 : 0,
            },
            { parent: this, retainOnDelete: args.app.production, ...(args.retained ? { import: args.retained } : {}) },
        );
        const version = new aws.secretsmanager.SecretVersion(`${name}-value`, { secretId: this.secret.id, secretString: pulumi.secret(args.app.secretKey) }, { parent: this });
        this.versionId = version.versionId;
        this.registerOutputs({ arn: this.secret.arn, versionId: this.versionId });
    }
}

export function sharedSecretKey(shared: SharedResources, app: AppSpec, retained: Retained = {}): SecretKey {
    return shared.once("aws:secret-key", () => new SecretKey(`${app.name}-secret-key`, { app, retained: retained.secretArn }));
}

/** An IAM trust policy for one AWS service principal. */
export function assumeRolePolicy(service: string, condition?: Record<string, unknown>): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole", ...(condition ? { Condition: condition } : {}) }],
    });
}

/**
 * HTTPS settings of a load-balanced AWS target that hold together: an app that redirects to HTTPS
 * (`FORCE_HTTPS`) needs a certificate on its load balancer, and a certificate needs the domain it
 * was issued for (the load balancer's own name is not on it).
 */
export function readHttps(r: Reader, ctx: ParseContext): { certificateArn?: string; domain?: string } {
    const certificateArn = r.string("certificateArn", "arn:aws:acm:eu-west-1:123456789012:certificate/<uuid>", CERTIFICATE_RULE);
    const domain = r.string("domain", "app.example.com", DOMAIN_RULE);
    const forceHttps = ["1", "true", "yes", "on"].includes((ctx.appEnv.FORCE_HTTPS ?? "").toLowerCase());
    if (!r.has("certificateArn") && forceHttps) {
        r.fail("certificateArn", undefined, `an ACM certificate for the load balancer's HTTPS listener (${PROJECT}:app.env.FORCE_HTTPS is ${ctx.appEnv.FORCE_HTTPS}, so the app redirects every request to HTTPS)`, "arn:aws:acm:<region>:<account>:certificate/<uuid>");
    }
    if ((r.has("certificateArn") || forceHttps) && !r.has("domain")) {
        r.fail("domain", undefined, "the domain the load balancer's certificate was issued for (its own DNS name is not on one); point its DNS at the load balancer", "app.example.com");
    }
    return { certificateArn, domain };
}

export function requireAwsRegion(r: { reportKey(key: string, value: unknown, allowed: string, fix: string): undefined }, region: string | undefined): string {
    if (!region) r.reportKey("aws:region", undefined, "the AWS region to deploy into", "pulumi config set aws:region eu-west-1");
    return region ?? "";
}
