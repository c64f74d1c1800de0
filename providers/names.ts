/**
 * Physical names: every name a cloud sees is scoped by app and stack (two stacks of one project
 * never collide) and fits the platform's limit. One pure function makes them all.
 */
import { createHash } from "crypto";

export interface NameRule {
    /** Longest name the platform accepts. */
    readonly max: number;
    /** Shortest name the platform accepts; shorter names are padded with the hash. @default 1 */
    readonly min?: number;
    /**
     * Always end with a hash of `unique` (e.g. organization/project/stack for globally unique names,
     * or the inputs that force a replacement for names that must change when it is replaced).
     */
    readonly unique?: string;
}

const HASH_LENGTH = 6;

function hash(text: string): string {
    return createHash("sha256").update(text).digest("hex").slice(0, HASH_LENGTH);
}

/** Lowercase letters, digits and single '-' between them: what every platform here accepts. */
function slug(text: string): string {
    return text
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/-{2,}/g, "-")
        .replace(/^-+|-+$/g, "");
}

/**
 * `parts` joined by '-', e.g. `physicalName(["onedigest", "prod", "run"], { max: 30 })` →
 * `onedigest-prod-run`. A name that is too long, had characters the platforms refuse (a stack named
 * `Prod_EU`), or asks for `unique`, is cut and ends with `-` + 6 hex of a hash of the whole input,
 * so it stays stable from run to run and distinct from its neighbours. Starts with a letter.
 */
export function physicalName(parts: readonly string[], rule: NameRule): string {
    const raw = parts.join("-");
    let name = slug(raw);
    if (!/^[a-z]/.test(name)) name = `x-${name}`.replace(/-+$/, "");
    const min = rule.min ?? 1;
    if (name === raw && rule.unique === undefined && name.length <= rule.max && name.length >= min) return name;
    const suffix = `-${hash(rule.unique === undefined ? raw : `${raw}\n${rule.unique}`)}`;
    if (rule.max < HASH_LENGTH + 2) throw new Error(`physicalName: a limit of ${rule.max} leaves no room for a hash`);
    const head = name.slice(0, rule.max - suffix.length).replace(/-+$/, "");
    return `${head}${suffix}`;
}

/**
 * The documented limits of every length-limited name the program sets, by what it names. Tests
 * check each generated name against these.
 */
export const LIMITS = {
    /** ALB and target group names. */
    loadBalancer: { max: 32 },
    targetGroup: { max: 32 },
    /** Elastic Beanstalk environment names (4–40) and application names (≤100). */
    beanstalkEnvironment: { min: 4, max: 40 },
    beanstalkApplication: { max: 100 },
    /** IAM role names (≤64) and instance profile names (≤128). */
    iamRole: { max: 64 },
    instanceProfile: { max: 128 },
    /** ECR repository names (2–256). */
    ecrRepository: { min: 2, max: 256 },
    /** Secrets Manager secret names (≤512). */
    awsSecret: { max: 512 },
    /** CloudWatch log group names (≤512). */
    logGroup: { max: 512 },
    /** CloudWatch alarm names (1–255) and dashboard names (≤255). */
    alarm: { max: 255 },
    dashboard: { max: 255 },
    /** SNS topic names (1–256). */
    snsTopic: { max: 256 },
    /** ECS cluster, service and task family names (≤255). */
    ecs: { max: 255 },
    /** S3 bucket name prefix (bucket names are ≤63; the provider appends 26 characters). */
    bucketPrefix: { max: 37 },
    /** Cloud Run service names (≤49). */
    cloudRunService: { max: 49 },
    /** Artifact Registry repository IDs (≤63). */
    artifactRepository: { max: 63 },
    /** Service account IDs (6–30). */
    serviceAccount: { min: 6, max: 30 },
    /** Secret Manager secret IDs (≤255). */
    gcpSecret: { max: 255 },
    /** Heroku app names (3–30, globally unique). */
    herokuApp: { min: 3, max: 30 },
    /** Docker container names on this machine. */
    container: { max: 128 },
} as const satisfies Record<string, NameRule>;
